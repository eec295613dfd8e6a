import { join } from 'node:path';
import { SqliteEventStore } from '../../src/storage/sqlite/sqlite-event-store';
import { removeDir, tempDataDir } from '../support/app-harness';
import { eventStoreContract } from './event-store.contract';

eventStoreContract('SQLite', async () => {
  const dir = tempDataDir();
  return {
    open: async () => new SqliteEventStore(join(dir, 'events.sqlite')),
    dispose: async () => removeDir(dir),
  };
});
