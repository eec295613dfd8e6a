// The event-store contract against a real EventStoreDB, when EVENTSTORE_CONNECTION_STRING names one
// (docker compose up eventstore; see docs/EVENTSTOREDB.md). The suite writes uniquely named streams
// and reads positions relative to the head it finds, so a server that holds other data will do.
import { join } from 'node:path';
import { openEventStoreDbEventStore } from '../../src/storage/eventstoredb/eventstoredb-event-store';
import { eventStoreContract } from './event-store.contract';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  eventStoreContract('EventStoreDB', async () => ({
    open: () => openEventStoreDbEventStore(connectionString),
    // The server keeps what the tests wrote; their streams are unique, so nothing needs removing.
    dispose: async () => undefined,
    inChildProcess: { module: join(__dirname, '../../src/storage/eventstoredb/eventstoredb-event-store.ts'), factory: 'openEventStoreDbEventStore', argument: connectionString },
  }));
} else {
  process.stdout.write('EventStoreDB contract skipped: EVENTSTORE_CONNECTION_STRING is not set (e.g. esdb://localhost:2113?tls=false with `docker compose up eventstore`)\n');
  describe.skip('EventStore contract: EventStoreDB (skipped: EVENTSTORE_CONNECTION_STRING is not set)', () => {
    it('runs the event-store contract against the server EVENTSTORE_CONNECTION_STRING names', () => undefined);
  });
}
