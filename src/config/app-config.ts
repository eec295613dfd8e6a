import { resolve } from 'node:path';
import { parseMasterKey } from '../crypto/master-key';
import { parseApiKey } from '../auth/api-key';
import { parsePublicBaseUrl } from '../http/public-url';

/** DI token of the AppConfig. */
export const APP_CONFIG = Symbol('AppConfig');

export interface AppConfig {
  port: number;
  dataDir: string;
  /** The event store's adapter (EVENT_STORE). */
  eventStore: EventStoreKind;
  /** The adapter of the read model, and of the data keys and API keys that live beside it (READ_MODEL). */
  readModel: ReadModelKind;
  /** PostgreSQL (DATABASE_URL), needed when either adapter is postgres. */
  databaseUrl: string | null;
  /** EventStoreDB (EVENTSTORE_CONNECTION_STRING), needed when EVENT_STORE=eventstoredb. */
  eventStoreConnectionString: string | null;
  /** null: generate into (or read from) DATA_DIR/master.key. */
  masterKey: Buffer | null;
  bootstrapKey: string | null;
  /** Where clients reach the service (PUBLIC_BASE_URL): links are built on it. null: the request's valid Host. */
  publicBaseUrl: string | null;
  production: boolean;
  /** Projection batch and poll settings; defaults suit production, tests may shrink them. */
  projection: { batchSize: number; pollIntervalMs: number };
  logRequests: boolean;
  /** LOG_LEVEL: the least severe level written. */
  logLevel: LogLevel;
  /** METRICS_PORT: serve /metrics there instead of on PORT; null: on PORT. */
  metricsPort: number | null;
  /** RATE_LIMIT_PER_MINUTE: requests one API key may make per minute on one instance; 0: no limit. */
  rateLimitPerMinute: number;
  /** REQUEST_TIMEOUT_MS: a request not answered by then gets 503 request_timeout. */
  requestTimeoutMs: number;
  /** SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for requests in flight before cutting them. */
  shutdownTimeoutMs: number;
  /** READY_MAX_LAG_MS: /health/ready answers 503 once the read model is this far behind the event store. */
  readyMaxLagMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const EVENT_STORES = ['sqlite', 'postgres', 'eventstoredb'] as const;
export type EventStoreKind = (typeof EVENT_STORES)[number];
export const READ_MODELS = ['sqlite', 'postgres'] as const;
export type ReadModelKind = (typeof READ_MODELS)[number];

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

  const eventStore = (env.EVENT_STORE || 'sqlite') as EventStoreKind;
  if (!EVENT_STORES.includes(eventStore)) problems.push(`EVENT_STORE must be one of ${EVENT_STORES.join(', ')}, got "${env.EVENT_STORE}"`);
  const readModel = (env.READ_MODEL || 'sqlite') as ReadModelKind;
  if (!READ_MODELS.includes(readModel)) problems.push(`READ_MODEL must be one of ${READ_MODELS.join(', ')}, got "${env.READ_MODEL}"`);
  const databaseUrl = env.DATABASE_URL || null;
  if ((eventStore === 'postgres' || readModel === 'postgres') && !databaseUrl) {
    problems.push('DATABASE_URL is required with EVENT_STORE=postgres or READ_MODEL=postgres, e.g. postgres://user@host:5432/db');
  } else if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// connection string');
  }
  const eventStoreConnectionString = env.EVENTSTORE_CONNECTION_STRING || null;
  if (eventStore === 'eventstoredb' && !eventStoreConnectionString) {
    problems.push('EVENTSTORE_CONNECTION_STRING is required with EVENT_STORE=eventstoredb, e.g. esdb://localhost:2113?tls=false');
  }

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
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  const metricsPort = env.METRICS_PORT ? whole(env, 'METRICS_PORT', 0, problems, { max: 65535 }) : null;
  if (metricsPort !== null && metricsPort === port && port !== 0) problems.push('METRICS_PORT must differ from PORT');
  const rateLimitPerMinute = whole(env, 'RATE_LIMIT_PER_MINUTE', 6000, problems);
  const requestTimeoutMs = whole(env, 'REQUEST_TIMEOUT_MS', 30_000, problems, { min: 1 });
  const shutdownTimeoutMs = whole(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, problems);
  const readyMaxLagMs = whole(env, 'READY_MAX_LAG_MS', 10_000, problems);
  if (problems.length) throw new InvalidConfiguration(problems);

  return {
    port,
    dataDir: resolve(env.DATA_DIR || './data'),
    eventStore,
    readModel,
    databaseUrl,
    eventStoreConnectionString,
    masterKey,
    bootstrapKey,
    publicBaseUrl,
    production: env.NODE_ENV === 'production',
    projection: { batchSize: 500, pollIntervalMs: 250 },
    logRequests: env.LOG_REQUESTS !== 'false',
    logLevel,
    metricsPort,
    rateLimitPerMinute,
    requestTimeoutMs,
    shutdownTimeoutMs,
    readyMaxLagMs,
  };
}

/** A whole number from the environment, `fallback` when unset; a problem when it is not one in range. */
function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[], range: { min?: number; max?: number } = {}): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const { min = 0, max = 2 ** 31 - 1 } = range;
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (value >= min && value <= max) return value;
  problems.push(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return fallback;
}
