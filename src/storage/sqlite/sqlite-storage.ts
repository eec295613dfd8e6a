import { join } from 'node:path';
import { SqliteAccountReadModel } from './sqlite-account-read-model';
import { SqliteApiKeyStore } from './sqlite-api-key-store';
import { openSqlite, SqliteDatabase } from './sqlite-database';
import { SqliteDataKeyStore } from './sqlite-data-key-store';
import { SqliteEventStore } from './sqlite-event-store';

export const EVENTS_FILE = 'events.sqlite';
export const STATE_FILE = 'state.sqlite';

/**
 * The embedded default: two SQLite files in DATA_DIR. events.sqlite is the source of truth;
 * state.sqlite holds what serves it (read models, data keys, API keys).
 */
export class SqliteStorage {
  readonly eventStore: SqliteEventStore;
  readonly state: SqliteDatabase;
  readonly readModel: SqliteAccountReadModel;
  readonly dataKeys: SqliteDataKeyStore;
  readonly apiKeys: SqliteApiKeyStore;

  constructor(dataDir: string) {
    this.eventStore = new SqliteEventStore(join(dataDir, EVENTS_FILE));
    // Durable too: data keys and API keys live here and cannot be rebuilt from events.
    this.state = openSqlite(join(dataDir, STATE_FILE), { durable: true });
    this.readModel = new SqliteAccountReadModel(this.state);
    this.dataKeys = new SqliteDataKeyStore(this.state);
    this.apiKeys = new SqliteApiKeyStore(this.state);
  }

  async close(): Promise<void> {
    await this.eventStore.close();
    if (this.state.open) this.state.close();
  }
}
