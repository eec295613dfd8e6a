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

/**
 * synchronous = NORMAL: its commits are not synced one by one (no wait on the disk in the projection's
 * commit, on the event loop). Rows and checkpoint move in one transaction, so a power cut loses at
 * worst some of the last batches, rows and checkpoint alike, which the projection applies again. The
 * file is shared with the API keys and idempotency records, whose connections stay FULL: the
 * setting is per connection, and their commits sync the WAL up to and including their own frames.
 */
export function openSqliteAccountReadModel(dataDir: string, access: StoreAccess): SqliteAccountReadModel {
  return new SqliteAccountReadModel(openSqlite(join(dataDir, STATE_FILE), { durable: false, access }));
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
