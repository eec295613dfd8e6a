import { join } from 'node:path';
import { SqliteAccountReadModel } from '../../src/storage/sqlite/sqlite-account-read-model';
import { openSqlite, SqliteDatabase } from '../../src/storage/sqlite/sqlite-database';
import { removeDir, tempDataDir } from '../support/app-harness';
import { accountReadModelContract } from './account-read-model.contract';

accountReadModelContract('SQLite', async () => {
  const dir = tempDataDir();
  const opened: SqliteDatabase[] = [];
  return {
    open: async () => {
      const db = openSqlite(join(dir, 'state.sqlite'), { durable: true });
      opened.push(db);
      return new SqliteAccountReadModel(db);
    },
    dispose: async () => {
      for (const db of opened) db.close();
      removeDir(dir);
    },
  };
});
