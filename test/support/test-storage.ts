// The stores the e2e suites run on. SQLite files in DATA_DIR by default; the jest projects
// "e2e: READ_MODEL=postgres" and "e2e: EVENT_STORE=postgres" run the same suites on PostgreSQL
// (testEnvironmentOptions.storage, set on the global by storage-environment.ts). Every helper that
// starts the service, the CLI or the composition root on a DATA_DIR adds `storageEnv(dataDir)`,
// so one DATA_DIR always means one set of stores, whichever they are.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDatabaseUrl } from '../../src/storage/postgres/postgres-pool';
import { postgresAvailability } from './postgres';

export type TestStorage = 'sqlite' | 'read-model-postgres' | 'postgres';

const globals = globalThis as { __TEST_STORAGE__?: TestStorage; __TEST_DATABASE_PREFIX__?: string; __TEST_ADMIN_DATABASE_URL__?: string };

export const testStorage: TestStorage = globals.__TEST_STORAGE__ ?? 'sqlite';
export const eventStoreKind = testStorage === 'postgres' ? 'postgres' : 'sqlite';
export const readModelKind = testStorage === 'sqlite' ? 'sqlite' : 'postgres';
/** The events are in DATA_DIR's SQLite file (what tests that open events.sqlite need). */
export const eventsInSqlite = eventStoreKind === 'sqlite';
/** The read model, data keys, API keys and idempotency records are in DATA_DIR's SQLite files. */
export const stateInSqlite = readModelKind === 'sqlite';

const created = new Map<string, string>();

/** The variables that put a DATA_DIR's stores where this project runs them: none on SQLite. */
export function storageEnv(dataDir: string): Record<string, string> {
  if (testStorage === 'sqlite') return {};
  return { EVENT_STORE: eventStoreKind, READ_MODEL: readModelKind, DATABASE_URL: databaseUrlFor(dataDir) };
}

const STORE_VARIABLES = ['EVENT_STORE', 'READ_MODEL', 'DATABASE_URL', 'EVENTSTORE_CONNECTION_STRING'];

/** storageEnv, unless the test names stores of its own in `env`: then those, and only those. */
export const storesUnlessNamed = (dataDir: string, env: Record<string, string | undefined> = {}): Record<string, string> =>
  STORE_VARIABLES.some((name) => env[name] !== undefined) ? {} : storageEnv(dataDir);

/** The first line every CLI command prints: which stores it opened, and how. */
export function openedLine(dataDir: string, access: 'read-only' | 'read-write'): string {
  const env = storageEnv(dataDir);
  return env.DATABASE_URL ? `DATA_DIR=${dataDir}, DATABASE_URL=${describeDatabaseUrl(env.DATABASE_URL)} (${access})` : `DATA_DIR=${dataDir} (${access})`;
}

/**
 * The database of this DATA_DIR, created on first use (synchronously: spawnMain and the CLI's
 * environment are built synchronously). Dropped by the test environment after the file.
 */
export function databaseUrlFor(dataDir: string, copyOf?: string): string {
  const known = created.get(dataDir);
  if (known) return known;
  const found = postgresAvailability();
  if (found.url === null) throw new Error(`this project runs the e2e suites on PostgreSQL, which is not usable: ${found.reason}`);
  const name = databaseName(dataDir);
  globals.__TEST_ADMIN_DATABASE_URL__ = found.url;
  const made = spawnSync(process.execPath, ['-e', CREATE_DATABASE, found.url, name, copyOf ? databaseName(copyOf) : ''], { cwd: join(__dirname, '../..'), encoding: 'utf8', timeout: 30_000 });
  if (made.status !== 0) throw new Error(`could not create the test database ${name}: ${made.stderr || made.error?.message}`);
  const url = new URL(found.url);
  url.pathname = `/${name}`;
  created.set(dataDir, url.toString());
  return url.toString();
}

const databaseName = (dataDir: string) => `${globals.__TEST_DATABASE_PREFIX__ ?? `ia_e2e_${process.pid}`}_${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;

/** A copy of a stopped service's stores, under a new DATA_DIR (its files; and its database, on PostgreSQL): to tamper with. */
export function copyStores(dataDir: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'identity-accounts-copy-'));
  cpSync(dataDir, copy, { recursive: true });
  if (testStorage !== 'sqlite') databaseUrlFor(copy, dataDir);
  return copy;
}

// Run by `node -e` with the admin URL, the name, and the database to copy (or '').
const CREATE_DATABASE = `
const { Client } = require('pg');
(async () => {
  const [url, name, template] = process.argv.slice(1);
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    if (template) await admin.query('CREATE DATABASE "' + name + '" TEMPLATE "' + template + '"');
    else await admin.query('CREATE DATABASE "' + name + '" TEMPLATE template0 ENCODING \\'UTF8\\' LOCALE \\'C.UTF-8\\'').catch(() => admin.query('CREATE DATABASE "' + name + '"'));
  } finally {
    await admin.end();
  }
})().catch((error) => { console.error(error.message); process.exit(1); });`;

/** A test whose subject exists only on SQLite files (it opens or scans them): named as such, run where they are. */
export const itOnSqliteFiles = (what: 'events' | 'state') => ((what === 'events' ? eventsInSqlite : stateInSqlite) ? it : skipWithReason(`it reads DATA_DIR's SQLite ${what === 'events' ? 'event file' : 'state files'}, which this project keeps in PostgreSQL`));

/** A test that reads every byte of the stores (stored-data.ts storedBytes): on PostgreSQL that takes pageinspect. */
export const itReadingStoredBytes: jest.It =
  testStorage === 'sqlite' || process.env.CI === 'true' || postgresAvailability().url === null || (postgresAvailability() as { pageinspect: boolean }).pageinspect
    ? it
    : skipWithReason('it reads every page of the PostgreSQL database with the pageinspect extension, which needs a superuser and the extension installed');

function skipWithReason(reason: string) {
  const skip = (name: string, ...rest: unknown[]) => {
    process.stderr.write(`Skipping "${name}" in the ${testStorage} project: ${reason}.\n`);
    (it.skip as (name: string, ...rest: unknown[]) => void)(name, ...rest);
  };
  return skip as unknown as jest.It;
}

/** A CLI's or a service's variables for a DATA_DIR and its stores, plus `more`. */
export const cliEnv = (dataDir: string, more: Record<string, string> = {}): Record<string, string> => ({ DATA_DIR: dataDir, ...storesUnlessNamed(dataDir, more), ...more });
