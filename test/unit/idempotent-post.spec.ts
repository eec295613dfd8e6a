import 'reflect-metadata';
import { RequestMethod, Type } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA, MODULE_METADATA } from '@nestjs/common/constants';
import { AppModule, BuiltBeforeNest } from '../../src/app.module';
import { AppConfig } from '../../src/config/app-config';
import { IdempotencyInterceptor } from '../../src/idempotency/idempotency.interceptor';
import { AppLogger } from '../../src/logging/logger';

type ModuleRef = Type | { module: Type; imports?: unknown[]; controllers?: Type[] };

/** Every controller of the app: the module tree read from its metadata, dynamic modules included. */
function controllersOf(root: ModuleRef, seen = new Set<unknown>()): Type[] {
  if (seen.has(root)) return [];
  seen.add(root);
  const moduleClass = typeof root === 'function' ? root : root.module;
  const dynamic: { imports?: unknown[]; controllers?: Type[] } = typeof root === 'function' ? {} : root;
  const imports = [...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, moduleClass) as ModuleRef[] | undefined) ?? []), ...((dynamic.imports as ModuleRef[] | undefined) ?? [])];
  const controllers = [...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, moduleClass) as Type[] | undefined) ?? []), ...(dynamic.controllers ?? [])];
  return [...controllers, ...imports.filter((m) => m && (typeof m === 'function' || 'module' in m)).flatMap((m) => controllersOf(m, seen))];
}

describe('IdempotentPost', () => {
  // Idempotency-Key is on POST routes only (no global interceptor): a route declared with @Post would miss it.
  it('is how every POST route of the app is declared: each has the idempotency interceptor', () => {
    const config = { metricsPort: null } as AppConfig;
    const root = AppModule.forRoot(config, {} as AppLogger, {} as BuiltBeforeNest);
    const posts: string[] = [];
    for (const controller of controllersOf(root)) {
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) !== RequestMethod.POST) continue;
        posts.push(`${controller.name}.${name}`);
        expect({ route: `${controller.name}.${name}`, interceptors: Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] }).toEqual({
          route: `${controller.name}.${name}`,
          interceptors: [IdempotencyInterceptor],
        });
      }
    }
    expect(posts).toEqual(expect.arrayContaining(['AccountsController.create', 'AccountsController.changeStatus', 'AccountsController.redact', 'AccountRelationshipsController.linkSessions']));
  });
});
