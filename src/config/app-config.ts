import { resolve } from 'node:path';
import { parseMasterKey } from '../crypto/master-key';
import { parseApiKey } from '../auth/api-key';
import { parsePublicBaseUrl } from '../http/public-url';

/** DI token of the AppConfig. */
export const APP_CONFIG = Symbol('AppConfig');

export interface AppConfig {
  port: number;
  dataDir: string;
  eventStore: 'sqlite';
  readModel: 'sqlite';
  /** null: generate into (or read from) DATA_DIR/master.key. */
  masterKey: Buffer | null;
  bootstrapKey: string | null;
  /** Where clients reach the service (PUBLIC_BASE_URL): links are built on it. null: the request's valid Host. */
  publicBaseUrl: string | null;
  production: boolean;
  /** Projection batch and poll settings; defaults suit production, tests may shrink them. */
  projection: { batchSize: number; pollIntervalMs: number };
  logRequests: boolean;
}

export class InvalidConfiguration extends Error {
  constructor(problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'InvalidConfiguration';
  }
}

/** Reads the environment once, reporting every problem in one message so start-up fails fast. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be a port number, got "${env.PORT}"`);

  const eventStore = env.EVENT_STORE ?? 'sqlite';
  if (eventStore !== 'sqlite') problems.push(`EVENT_STORE must be "sqlite" (the EventStoreDB adapter is not in this build), got "${eventStore}"`);
  const readModel = env.READ_MODEL ?? 'sqlite';
  if (readModel !== 'sqlite') problems.push(`READ_MODEL must be "sqlite" (the PostgreSQL adapter is not in this build), got "${readModel}"`);

  let masterKey: Buffer | null = null;
  if (env.ACCOUNTS_MASTER_KEY) {
    masterKey = parseMasterKey(env.ACCOUNTS_MASTER_KEY);
    if (!masterKey) problems.push('ACCOUNTS_MASTER_KEY must be 32 bytes as 64 hex characters or base64');
  }
  const bootstrapKey = env.ACCOUNTS_BOOTSTRAP_KEY || null;
  if (bootstrapKey && !parseApiKey(bootstrapKey)) {
    problems.push('ACCOUNTS_BOOTSTRAP_KEY must look like sk_<production|staging>_<32 to 128 letters or digits>');
  }
  const publicBaseUrl = env.PUBLIC_BASE_URL ? parsePublicBaseUrl(env.PUBLIC_BASE_URL) : null;
  if (env.PUBLIC_BASE_URL && !publicBaseUrl) {
    problems.push('PUBLIC_BASE_URL must be an absolute http(s) URL without query or fragment, such as https://api.example.com');
  }
  if (problems.length) throw new InvalidConfiguration(problems);

  return {
    port,
    dataDir: resolve(env.DATA_DIR || './data'),
    eventStore: 'sqlite',
    readModel: 'sqlite',
    masterKey,
    bootstrapKey,
    publicBaseUrl,
    production: env.NODE_ENV === 'production',
    projection: { batchSize: 500, pollIntervalMs: 250 },
    logRequests: env.LOG_REQUESTS !== 'false',
  };
}
