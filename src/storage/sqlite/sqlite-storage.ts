import { join } from 'node:path';
import { StoreAccess } from '../store-access';
import { SqliteAccountReadModel } from './sqlite-account-read-model';
import { SqliteApiKeyStore } from './sqlite-api-key-store';
import { openSqlite } from './sqlite-database';
import { SqliteDataKeyStore } from './sqlite-data-key-store';
import { SqliteEventStore } from './sqlite-event-store';
import { SqliteIdempotencyStore } from './sqlite-idempotency-store';

// The embedded default: three SQLite files in DATA_DIR. events.sqlite is the source of truth;
// state.sqlite holds what serves it (read models, API keys); keys.sqlite the accounts' data keys.
// One opener per port, each with its own connection.

export const EVENTS_FILE = 'events.sqlite';
export const STATE_FILE = 'state.sqlite';
export const KEYS_FILE = 'keys.sqlite';

export function openSqliteEventStore(dataDir: string, access: StoreAccess): SqliteEventStore {
  return new SqliteEventStore(join(dataDir, EVENTS_FILE), { access });
}

/** NORMAL would do for rows rebuilt from events, but the file is shared with the API keys, which cannot be rebuilt. */
export function openSqliteAccountReadModel(dataDir: string, access: StoreAccess): SqliteAccountReadModel {
  return new SqliteAccountReadModel(openSqlite(join(dataDir, STATE_FILE), { durable: true, access }));
}

export function openSqliteApiKeyStore(dataDir: string, access: StoreAccess): SqliteApiKeyStore {
  return new SqliteApiKeyStore(openSqlite(join(dataDir, STATE_FILE), { durable: true, access }));
}

/** No WAL: a destroyed data key must leave no old page image behind, whoever is reading. */
export function openSqliteDataKeyStore(dataDir: string, access: StoreAccess): SqliteDataKeyStore {
  return new SqliteDataKeyStore(join(dataDir, KEYS_FILE), { access });
}

/** Beside the API keys: like them, idempotency records cannot be rebuilt from events. */
export function openSqliteIdempotencyStore(dataDir: string, access: StoreAccess): SqliteIdempotencyStore {
  return new SqliteIdempotencyStore(openSqlite(join(dataDir, STATE_FILE), { durable: true, access }));
}
