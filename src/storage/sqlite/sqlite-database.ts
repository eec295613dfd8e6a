import Database from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreAccess, StoreMissing } from '../store-access';

export type SqliteDatabase = Database.Database;

/**
 * Opens a SQLite file the way every store here needs it: a busy timeout so processes sharing the
 * file queue instead of failing; secure_delete so erased bytes are overwritten rather than left in
 * free pages. `wal` lets readers and the writer run at once; `rollback` keeps no log of old page
 * images once a transaction ends, for the file whose deletes must leave no copy (data keys).
 * Read-only: the file must exist (nothing is created) and SQLite refuses every write to it.
 */
export function openSqlite(file: string, options: { durable: boolean; journal?: 'wal' | 'rollback'; access?: StoreAccess }): SqliteDatabase {
  if (options.access === 'read-only') {
    if (!existsSync(file)) throw new StoreMissing(file);
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    return db;
  }
  mkdirSync(dirname(file), { recursive: true });
  // Owner-only, like master.key: SQLite gives its -wal and -shm files the database file's mode.
  if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600 });
  const db = new Database(file);
  db.pragma(`journal_mode = ${options.journal === 'rollback' ? 'DELETE' : 'WAL'}`);
  db.pragma('busy_timeout = 10000');
  db.pragma('secure_delete = ON');
  // FULL: a commit is on disk before it is acknowledged. NORMAL is enough for data rebuilt from events.
  db.pragma(`synchronous = ${options.durable ? 'FULL' : 'NORMAL'}`);
  return db;
}
