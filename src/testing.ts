import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from './app';
import { Scope, SCOPES } from './auth/api-key';
import { ApiKeys, BOOTSTRAP_ORGANIZATION } from './auth/api-keys';
import { loadConfig } from './config/app-config';
import { Environment } from './kernel/tenant';

// `identity-accounts/testing`: the real service, in-process, for other projects' test suites. It is
// built with the same createApp as the service, on a DATA_DIR of its own, and prints nothing.

export type { Environment, Scope };

/** Whose key: each (organization, environment) is a tenant of its own, seeing only its accounts. */
export interface TestKeyOptions {
  /** Default `default`. */
  organization?: string;
  /** Default `staging`; the key then starts `sk_staging_`. */
  environment?: Environment;
  /** Default every scope: `accounts:read`, `accounts:write`, `audit:read`. */
  scopes?: Scope[];
}

export interface TestServerOptions extends TestKeyOptions {
  /** Receives each log line (JSON: requests, errors). Default: lines are dropped, nothing is printed. */
  log?: (line: string) => void;
  /** A DATA_DIR to use and keep, e.g. to start again on the same data. Default: a new temporary directory, removed by close(). */
  dataDir?: string;
  /** More configuration, as the service's environment variables (README), e.g. `{ PUBLIC_BASE_URL: 'https://kyc.example.com' }`. */
  env?: Record<string, string>;
}

export interface TestServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash: the API is at `${url}/v1/identity/accounts`. */
  url: string;
  /** A key of the tenant and scopes the options named (by default: organization default, staging, every scope). */
  apiKey: string;
  dataDir: string;
  /** Another key, of this or another tenant, or with fewer scopes. */
  createKey(options?: TestKeyOptions): Promise<string>;
  /** Stops the server and removes its DATA_DIR (unless the options gave one). Safe to call twice. */
  close(): Promise<void>;
}

/** Starts the service on 127.0.0.1 and a free port, with a fresh DATA_DIR; resolves once it listens. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'identity-accounts-test-'));
  const removeDataDir = () => {
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // Only what is given here: not the environment of the suite that runs it (NODE_ENV, keys...).
    const config = loadConfig({ LOG_LEVEL: options.log ? 'info' : 'silent', RATE_LIMIT_PER_MINUTE: '0', ...options.env, DATA_DIR: dataDir, PORT: '0' });
    // No log option: nothing is logged at all (LOG_LEVEL silent), unless env asks for a level.
    const app = await createApp(config, { log: options.log ?? (() => undefined) });
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      const apiKeys = app.get(ApiKeys);
      const createKey = async (key: TestKeyOptions = {}) =>
        (await apiKeys.create(key.organization ?? BOOTSTRAP_ORGANIZATION, key.environment ?? 'staging', key.scopes ?? [...SCOPES])).key;
      const apiKey = await createKey(options);
      let closed: Promise<void> | undefined;
      return { url: `http://127.0.0.1:${port}`, apiKey, dataDir, createKey, close: () => (closed ??= app.close().then(removeDataDir)) };
    } catch (error) {
      await app.close();
      throw error;
    }
  } catch (error) {
    removeDataDir();
    throw error;
  }
}
