import { join } from 'node:path';
import { SqliteEventStore } from '../../src/storage/sqlite/sqlite-event-store';
import { removeDir, tempDataDir } from '../support/app-harness';
import { eventStoreContract } from './event-store.contract';

eventStoreContract('SQLite', async () => {
  const dir = tempDataDir();
  const file = join(dir, 'events.sqlite');
  return {
    open: async () => new SqliteEventStore(file),
    dispose: async () => removeDir(dir),
    child: { openerModule: join(__dirname, 'openers/sqlite-opener.ts'), argument: file },
  };
});
