import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * Opens a SQLite file the way every store here needs it: WAL so readers never block the writer
 * and several processes can share the file; a busy timeout so they queue instead of failing;
 * secure_delete so erased bytes are overwritten rather than left in free pages.
 */
export function openSqlite(file: string, options: { durable: boolean }): SqliteDatabase {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('secure_delete = ON');
  // FULL: a commit is on disk before it is acknowledged. NORMAL is enough for data rebuilt from events.
  db.pragma(`synchronous = ${options.durable ? 'FULL' : 'NORMAL'}`);
  return db;
}
