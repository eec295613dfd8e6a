import { join } from 'node:path';
import { openSqlite, SqliteDatabase } from '../../src/storage/sqlite/sqlite-database';
import { SqliteIdempotencyStore } from '../../src/storage/sqlite/sqlite-idempotency-store';
import { removeDir, tempDataDir } from '../support/app-harness';
import { idempotencyStoreContract } from './idempotency-store.contract';

idempotencyStoreContract('SQLite', async () => {
  const dir = tempDataDir();
  const opened: SqliteDatabase[] = [];
  return {
    open: async () => {
      const db = openSqlite(join(dir, 'state.sqlite'), { durable: true });
      opened.push(db);
      return new SqliteIdempotencyStore(db);
    },
    dispose: async () => {
      for (const db of opened) db.close();
      removeDir(dir);
    },
  };
});
