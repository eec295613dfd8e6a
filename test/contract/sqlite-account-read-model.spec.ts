import { join } from 'node:path';
import { SqliteAccountReadModel } from '../../src/storage/sqlite/sqlite-account-read-model';
import { openSqlite, SqliteDatabase } from '../../src/storage/sqlite/sqlite-database';
import { removeDir, tempDataDir } from '../support/app-harness';
import { accountReadModelContract } from './account-read-model.contract';

accountReadModelContract('SQLite', async () => {
  const dir = tempDataDir();
  const opened: SqliteDatabase[] = [];
  const file = join(dir, 'state.sqlite');
  return {
    open: async () => {
      const db = openSqlite(file, { durable: true });
      opened.push(db);
      return new SqliteAccountReadModel(db);
    },
    inChildProcess: { module: join(__dirname, '../support/sqlite.ts'), factory: 'openSqliteAccountReadModel', argument: file },
    dispose: async () => {
      for (const db of opened) db.close();
      removeDir(dir);
    },
  };
});
