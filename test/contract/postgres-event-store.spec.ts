import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { NO_STREAM, RecordedEvent } from '../../src/storage/event-store.port';
import { describePostgres, openPostgresEventStore } from '../support/postgres';
import { eventStoreContract } from './event-store.contract';

describePostgres('PostgreSQL event store', (database) => {
  // One database for the suite: the contract's streams are unique per test, and it reads the global log from where it stood.
  eventStoreContract('PostgreSQL', async () => ({
    open: () => openPostgresEventStore(database.url),
    inChildProcess: { module: join(__dirname, '../support/postgres.ts'), factory: 'openPostgresEventStore', argument: database.url },
    dispose: async () => undefined,
  }));

  it("wakes a subscription at another instance's append (NOTIFY), long before its next poll", async () => {
    const [subscriber, writer] = [await openPostgresEventStore(database.url), await openPostgresEventStore(database.url)];
    const prefix = `notify${randomUUID().replace(/-/g, '')}-`;
    const received: RecordedEvent[] = [];
    const from = await subscriber.headPosition();
    const subscription = subscriber.subscribeToAll(
      // A poll a minute: within this test, only a notification can bring the events in.
      { from: async () => from, streamPrefixes: [prefix], maxBatchSize: 10, pollIntervalMs: 60_000 },
      { handle: async ({ events }) => void received.push(...events), onError: (error) => void received.push(error as never) },
    );
    try {
      // The subscription's first read finds nothing and sleeps; its LISTEN is up within moments.
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (let i = 0; i < 3; i++) {
        await writer.appendToStream(`${prefix}${i}`, [{ id: randomUUID(), type: `e${i}`, data: {}, metadata: {} }], NO_STREAM);
        const deadline = Date.now() + 10_000;
        while (received.length <= i && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(received.map((event) => event.type)).toEqual(['e0', 'e1', 'e2']);
    } finally {
      await subscription.stop();
      await Promise.all([subscriber.close(), writer.close()]);
    }
  });
});
