import { join } from 'node:path';
import { describePostgres, openPostgresEventStore } from '../support/postgres';
import { eventStoreContract } from './event-store.contract';

describePostgres('PostgreSQL event store', (database) => {
  // One database for the suite: the contract's streams are unique per test, and it reads the global log from where it stood.
  eventStoreContract('PostgreSQL', async () => ({
    open: () => openPostgresEventStore(database.url),
    inChildProcess: { module: join(__dirname, '../support/postgres.ts'), factory: 'openPostgresEventStore', argument: database.url },
    dispose: async () => undefined,
  }));
});
