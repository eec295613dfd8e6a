import { join } from 'node:path';
import { openSqlite, SqliteDatabase } from '../../src/storage/sqlite/sqlite-database';
import { SqliteDataKeyStore } from '../../src/storage/sqlite/sqlite-data-key-store';
import { removeDir, tempDataDir } from '../support/app-harness';
import { dataKeyStoreContract } from './data-key-store.contract';

dataKeyStoreContract('SQLite', async () => {
  const dir = tempDataDir();
  const opened: SqliteDatabase[] = [];
  return {
    open: async () => {
      // As SqliteStorage opens keys.sqlite.
      const db = openSqlite(join(dir, 'keys.sqlite'), { durable: true, journal: 'rollback' });
      opened.push(db);
      return new SqliteDataKeyStore(db);
    },
    dispose: async () => {
      for (const db of opened) db.close();
      removeDir(dir);
    },
  };
});
