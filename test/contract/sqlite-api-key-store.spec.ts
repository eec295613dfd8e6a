import { join } from 'node:path';
import { SqliteApiKeyStore } from '../../src/storage/sqlite/sqlite-api-key-store';
import { openSqlite, SqliteDatabase } from '../../src/storage/sqlite/sqlite-database';
import { removeDir, tempDataDir } from '../support/app-harness';
import { apiKeyStoreContract } from './api-key-store.contract';

apiKeyStoreContract('SQLite', async () => {
  const dir = tempDataDir();
  const opened: SqliteDatabase[] = [];
  return {
    open: async () => {
      const db = openSqlite(join(dir, 'state.sqlite'), { durable: true });
      opened.push(db);
      return new SqliteApiKeyStore(db);
    },
    dispose: async () => {
      for (const db of opened) db.close();
      removeDir(dir);
    },
  };
});
