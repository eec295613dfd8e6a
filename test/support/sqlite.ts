import { AccountReadModel } from '../../src/accounts/projection/account-read-model.port';
import { EventStore } from '../../src/storage/event-store.port';
import { SqliteAccountReadModel } from '../../src/storage/sqlite/sqlite-account-read-model';
import { openSqlite } from '../../src/storage/sqlite/sqlite-database';
import { SqliteEventStore } from '../../src/storage/sqlite/sqlite-event-store';

/** The opener a child process uses (event-store-process.ts) to reach the same SQLite file. */
export async function openSqliteEventStore(file: string): Promise<EventStore> {
  return new SqliteEventStore(file);
}

/** The opener a child process uses (lease-holder-process.ts) to reach the same read model file. */
export async function openSqliteAccountReadModel(file: string): Promise<AccountReadModel> {
  return new SqliteAccountReadModel(openSqlite(file, { durable: true }));
}
