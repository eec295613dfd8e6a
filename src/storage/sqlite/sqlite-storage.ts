import { join } from 'node:path';
import { SqliteAccountReadModel } from './sqlite-account-read-model';
import { SqliteApiKeyStore } from './sqlite-api-key-store';
import { openSqlite, SqliteDatabase } from './sqlite-database';
import { SqliteDataKeyStore } from './sqlite-data-key-store';
import { SqliteEventStore } from './sqlite-event-store';

export const EVENTS_FILE = 'events.sqlite';
export const STATE_FILE = 'state.sqlite';
export const KEYS_FILE = 'keys.sqlite';

/**
 * The embedded default: three SQLite files in DATA_DIR. events.sqlite is the source of truth;
 * state.sqlite holds what serves it (read models, API keys); keys.sqlite the accounts' data keys.
 */
export class SqliteStorage {
  readonly eventStore: SqliteEventStore;
  readonly state: SqliteDatabase;
  readonly keys: SqliteDatabase;
  readonly readModel: SqliteAccountReadModel;
  readonly dataKeys: SqliteDataKeyStore;
  readonly apiKeys: SqliteApiKeyStore;

  constructor(dataDir: string) {
    this.eventStore = new SqliteEventStore(join(dataDir, EVENTS_FILE));
    // Durable too: API keys live here and cannot be rebuilt from events.
    this.state = openSqlite(join(dataDir, STATE_FILE), { durable: true });
    // No WAL: a destroyed data key must leave no old page image behind, whoever is reading.
    this.keys = openSqlite(join(dataDir, KEYS_FILE), { durable: true, journal: 'rollback' });
    this.readModel = new SqliteAccountReadModel(this.state);
    this.dataKeys = new SqliteDataKeyStore(this.keys);
    this.apiKeys = new SqliteApiKeyStore(this.state);
  }

  async close(): Promise<void> {
    await this.eventStore.close();
    for (const db of [this.state, this.keys]) if (db.open) db.close();
  }
}
