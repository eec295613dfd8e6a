import { ANY, ExpectedRevision, NO_STREAM, WrongExpectedRevision } from '../event-store.port';
import { SqliteDatabase } from './sqlite-database';
import type { Operations } from './sqlite-writer.worker';

/** An event as the writer thread inserts it: data and metadata already JSON. */
export interface EventToInsert {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

/** What an append answers across the thread: the last revision written and the last event's rowid. */
export interface InsertedEvents {
  lastRevision: number;
  lastRowid: number;
}

export function createEventTables(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position    INTEGER PRIMARY KEY AUTOINCREMENT,
      stream      TEXT    NOT NULL,
      revision    INTEGER NOT NULL,
      event_id    TEXT    NOT NULL UNIQUE,
      type        TEXT    NOT NULL,
      data        TEXT    NOT NULL,
      metadata    TEXT    NOT NULL,
      recorded_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      UNIQUE (stream, revision)
    )`);
}

/** The writer thread's side of events.sqlite: an append checks the stream's head and inserts, inside the batch's transaction. */
export function eventOperations(db: SqliteDatabase): Operations {
  const head = db.prepare<[string], { revision: number | null }>('SELECT MAX(revision) AS revision FROM events WHERE stream = ?');
  const insert = db.prepare('INSERT INTO events (stream, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  return {
    append: {
      writes: true,
      run: (stream: string, events: EventToInsert[], expected: ExpectedRevision): InsertedEvents => {
        const last = head.get(stream)?.revision ?? null;
        const actual = last === null ? NO_STREAM : BigInt(last);
        if (expected !== ANY && expected !== actual) throw new WrongExpectedRevision(stream, expected, actual);
        let revision = last === null ? 0 : last + 1;
        let lastRowid = 0;
        for (const event of events) {
          lastRowid = Number(insert.run(stream, revision, event.id, event.type, event.data, event.metadata).lastInsertRowid);
          revision += 1;
        }
        return { lastRevision: revision - 1, lastRowid };
      },
    },
  };
}
