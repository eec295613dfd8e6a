import { EventStore } from '../../src/storage/event-store.port';
import { SqliteEventStore } from '../../src/storage/sqlite/sqlite-event-store';

/** The opener a child process uses (event-store-process.ts) to reach the same SQLite file. */
export async function openSqliteEventStore(file: string): Promise<EventStore> {
  return new SqliteEventStore(file);
}
