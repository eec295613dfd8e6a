import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { ProjectionLease } from '../../accounts/projection/account-read-model.port';

/**
 * The projection lease among processes sharing SQLite files: an exclusive lock on a file of its own,
 * taken by an EXCLUSIVE transaction left open for as long as the lease is held. SQLite's locks are
 * the operating system's file locks, which end with the process that holds them, kill -9 included:
 * a dead holder never keeps the lease, and the next process to try takes it at once. The file holds
 * no data; it is locked, never written.
 */
export class SqliteProjectionLease implements ProjectionLease {
  /** A file lock is not lost while its process lives. */
  readonly lost: AbortSignal = new AbortController().signal;

  private constructor(private readonly db: Database.Database) {}

  /** The lease, or null at once (no busy wait) while another connection, in this process or another, holds it. */
  static tryAcquire(file: string): SqliteProjectionLease | null {
    createIfMissing(file);
    const db = new Database(file, { timeout: 0, fileMustExist: true });
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if (String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return null;
      throw error;
    }
    return new SqliteProjectionLease(db);
  }

  async release(): Promise<void> {
    if (!this.db.open) return;
    this.db.exec('ROLLBACK');
    this.db.close();
  }
}

/**
 * Owner-only, like every file of DATA_DIR. Only ever opened here when it does not exist yet: closing
 * any descriptor of a file drops every lock the process holds on it (POSIX), so once it exists only
 * SQLite, which guards against that, may open it.
 */
function createIfMissing(file: string): void {
  try {
    writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
