import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppOverrides } from './app.module';
import { createServices } from './composition-root';
import { AppConfig } from './config/app-config';
import { JsonLogger } from './http/json-logger';
import { authenticateRequest } from './auth/api-key.guard';
import { ApiKeys } from './auth/api-keys';
import { jsonBody } from './http/json-body';
import { methodNotAllowed, RouterLayers } from './http/method-not-allowed';
import { requestContext } from './http/request-context';
import { IdFactory } from './kernel/ids';

/** Builds the HTTP app exactly as it runs in production; the e2e tests use this too. */
export async function createApp(config: AppConfig, overrides: AppOverrides = {}): Promise<NestExpressApplication> {
  const logger = overrides.logger ?? new JsonLogger();
  // The stores open before Nest starts: one that cannot (an unreachable DATABASE_URL, say) is one
  // error for the caller, rather than one Nest also logs from inside its injector.
  const services = overrides.services ?? (await createServices(config, { ...overrides.servicesOptions, clock: overrides.clock, logger }));
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, { ...overrides, logger, services }), {
    bodyParser: false,
    logger,
    abortOnError: false,
  }).catch(async (error: unknown) => {
    await services.close();
    throw error;
  });
  app.disable('x-powered-by');
  app.use(requestContext(app.get(IdFactory), logger, config.logRequests));
  // Express's own typings still describe Express 4's router; methodNotAllowed says what it reads of 5's.
  const express = app.getHttpAdapter().getInstance() as unknown as { router: RouterLayers };
  app.use(methodNotAllowed(() => express.router));
  app.use(authenticateRequest(app.get(ApiKeys)));
  app.use(jsonBody());
  app.enableShutdownHooks();
  await app.init();
  return app;
}
