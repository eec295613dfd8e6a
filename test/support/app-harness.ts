import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../src/app';
import type { CreateAppOptions } from '../../src/app';
import { generateApiKey } from '../../src/auth/api-key';
import { loadConfig } from '../../src/config/app-config';
import { Clock } from '../../src/kernel/clock';
import { storesUnlessNamed } from './test-storage';

export const ACCOUNTS = '/v1/identity/accounts';

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'identity-accounts-'));
}

export interface TestApp {
  app: NestExpressApplication;
  dataDir: string;
  /** The bootstrap key: organization "default", every scope. */
  key: string;
  /** Every log line the app wrote. */
  logs: string[];
  http: () => ReturnType<typeof request>;
  create: (attributes: Record<string, unknown>, key?: string) => request.Test;
  get: (id: string, key?: string) => request.Test;
  patch: (id: string, attributes: Record<string, unknown>, key?: string) => request.Test;
  close: () => Promise<void>;
}

/** The real app on a temporary DATA_DIR, reached through HTTP only. */
export async function startApp(
  options: { dataDir?: string; key?: string; clock?: Clock; env?: Record<string, string>; services?: CreateAppOptions['servicesOptions'] } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? tempDataDir();
  const key = options.key ?? generateApiKey('staging');
  const logs: string[] = [];
  // No rate limit unless a test sets one: suites send many requests with one key (the limits test sets its own).
  const config = loadConfig({ DATA_DIR: dataDir, ...storesUnlessNamed(dataDir, options.env), ACCOUNTS_BOOTSTRAP_KEY: key, RATE_LIMIT_PER_MINUTE: '0', ...options.env });
  const app = await createApp(config, { clock: options.clock, servicesOptions: options.services, log: (line) => logs.push(line) });
  const http = () => request(app.getHttpServer());
  return {
    app,
    dataDir,
    key,
    logs,
    http,
    create: (attributes, k = key) =>
      http().post(ACCOUNTS).set('X-Api-Key', k).set('Content-Type', 'application/json').send({ data: { type: 'account', attributes } }),
    get: (id, k = key) => http().get(`${ACCOUNTS}/${id}`).set('X-Api-Key', k),
    patch: (id, attributes, k = key) =>
      http().patch(`${ACCOUNTS}/${id}`).set('X-Api-Key', k).set('Content-Type', 'application/json').send({ data: { type: 'account', id, attributes } }),
    close: () => app.close(),
  };
}

/**
 * One app for the whole describe block, started before its tests and removed after them. The
 * returned object stands for that app (it forwards to it), so tests write `t.create(...)`.
 */
export function appForEachSuite(options: Parameters<typeof startApp>[0] = {}): TestApp {
  let current: TestApp | undefined;
  beforeAll(async () => {
    current = await startApp(options);
  });
  afterAll(async () => {
    await current?.close();
    if (current) removeDir(current.dataDir);
  });
  return new Proxy({} as TestApp, {
    get: (_, property) => {
      if (!current) throw new Error('the app starts in beforeAll: use it inside a test');
      return current[property as keyof TestApp];
    },
  });
}

export function removeDir(dir: string) {
  rmSync(dir, { recursive: true, force: true });
}

/** The body of the guide's create example, verbatim as the guide prints it. */
export const GUIDE_CREATE_BODY = `{
    "data": {
      "type": "account",
      "attributes": {
        "external_id": "user-12345",
        "entity_type": "person",
        "person": {
          "name": {
            "first": "Jane",
            "last": "Doe"
          },
          "birth_date": "1990-05-15"
        },
        "contact": {
          "email": "jane@example.com",
          "phone": "+1234567890"
        }
      }
    }
  }`;

/** The guide's create example's attributes. */
export const GUIDE_CREATE_ATTRIBUTES = {
  external_id: 'user-12345',
  entity_type: 'person',
  person: { name: { first: 'Jane', last: 'Doe' }, birth_date: '1990-05-15' },
  contact: { email: 'jane@example.com', phone: '+1234567890' },
};

let guideCopies = 0;
/** The guide's create example under an external_id of its own: external_id is unique per tenant. */
export const uniqueGuideAttributes = () => ({ ...GUIDE_CREATE_ATTRIBUTES, external_id: `user-12345-${++guideCopies}` });
