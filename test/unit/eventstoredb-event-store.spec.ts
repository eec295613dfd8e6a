// The EventStoreDB adapter's own logic (paging $all, skipping what is not the port's, finding the
// head, the append's answers) against an in-memory client with EventStoreDB's semantics; then the
// whole event-store contract against it. test/contract/eventstoredb-event-store.spec.ts runs the
// same contract against a real server.
import { randomUUID } from 'node:crypto';
import { EventStoreDbEventStore } from '../../src/storage/eventstoredb/eventstoredb-event-store';
import { encodePosition } from '../../src/storage/eventstoredb/eventstoredb-mapping';
import { LogChunk, NO_STREAM, START, WrongExpectedRevision } from '../../src/storage/event-store.port';
import { eventStoreContract } from '../contract/event-store.contract';
import { FakeEventStoreDbClient } from '../support/fake-eventstoredb-client';

const event = (type: string) => ({ id: randomUUID(), type, data: { type }, metadata: { schema_version: 1 } });
const positionOf = (stored: { commit: bigint }) => encodePosition({ commit: stored.commit, prepare: stored.commit });

describe('EventStoreDB adapter', () => {
  let client: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;
  beforeEach(() => {
    client = new FakeEventStoreDbClient();
    store = new EventStoreDbEventStore(client, { retryDelays: { firstMs: 10, maxMs: 50 } });
  });
  afterEach(() => store.close());

  /** What EventStoreDB writes by itself, and what another application on the same server might. */
  const writeNoise = (count: number) => {
    for (let i = 0; i < count; i++) {
      if (i % 3 === 0) client.writeRaw('$settings', [{ type: '$settings' }]);
      else if (i % 3 === 1) client.writeRaw(`$$account-acc_${i}`, [{ type: '$metadata' }]);
      else client.writeRaw('their-binary-stream', [{ type: 'blob', contentType: 'application/octet-stream', data: new Uint8Array([i % 256]) }]);
    }
  };

  describe('readAll', () => {
    it("returns maxCount events of the port's log after the position, however many system or binary events lie between", async () => {
      const a = await store.appendToStream('account-a', [event('a0')], NO_STREAM);
      writeNoise(50);
      await store.appendToStream('account-b', [event('b0')], NO_STREAM);
      writeNoise(50);
      await store.appendToStream('external-id-x', [event('x0')], NO_STREAM);
      expect((await store.readAll(START, 2)).map((e) => e.type)).toEqual(['a0', 'b0']);
      // Exclusive of its starting position, although EventStoreDB's own read includes it.
      expect((await store.readAll(a.position, 1)).map((e) => e.type)).toEqual(['b0']);
      expect((await store.readAll(a.position, 10)).map((e) => e.type)).toEqual(['b0', 'x0']);
    });

    it('returns nothing after the last event, even with system events after it', async () => {
      const last = await store.appendToStream('account-a', [event('a0')], NO_STREAM);
      writeNoise(10);
      expect(await store.readAll(last.position, 5)).toEqual([]);
      expect(await store.readAll(START, 5)).toHaveLength(1);
    });
  });

  describe('headPosition', () => {
    it("is the last event of the port's log: system and binary events after it do not count", async () => {
      expect(await store.headPosition()).toBe(START);
      const last = await store.appendToStream('external-id-x', [event('x0')], NO_STREAM);
      writeNoise(100);
      expect(await store.headPosition()).toBe(last.position);
    });

    it('with prefixes, is the last event of a matching stream: the position a filtered subscription delivers', async () => {
      const account = await store.appendToStream('account-a', [event('a0'), event('a1')], NO_STREAM);
      for (let i = 0; i < 150; i++) await store.appendToStream(`external-id-${i}`, [event('reserved')], NO_STREAM);
      writeNoise(30);
      expect(await store.headPosition(['account-'])).toBe(account.position);
      expect(await store.headPosition(['none-'])).toBe(START);
    });

    it('gives up after 4096 events without a match, answering the oldest it read: every match is older, and checkpoints pass it', async () => {
      const account = await store.appendToStream('account-a', [event('a0')], NO_STREAM);
      const others = client.writeRaw('others', Array.from({ length: 5000 }, () => ({ type: 'other' })));
      const head = await store.headPosition(['account-']);
      expect(head).toBe(positionOf(others[others.length - 4096]));
      expect(head > account.position).toBe(true);
    });
  });

  describe('appendToStream', () => {
    it('answers the position of the last event appended, as $all has it', async () => {
      const result = await store.appendToStream('account-a', [event('a0'), event('a1')], NO_STREAM);
      expect(result).toEqual({ nextExpectedRevision: 1n, position: positionOf(client.log.at(-1)!) });
    });

    it('reads the position back when the server answers without one (an append it took for a retry)', async () => {
      const events = [event('a0')];
      const first = await store.appendToStream('account-a', events, NO_STREAM);
      client.omitAppendPositions = true;
      expect(await store.appendToStream('account-a', events, NO_STREAM)).toEqual(first);
      expect(await store.readStream('account-a')).toHaveLength(1);
    });

    it('refuses with WrongExpectedRevision also when the client answers success: false instead of throwing', async () => {
      await store.appendToStream('account-a', [event('a0')], NO_STREAM);
      client.throwOnAppendFailure = false;
      const refused = await store.appendToStream('account-a', [event('a1')], NO_STREAM).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WrongExpectedRevision);
      expect(refused).toMatchObject({ stream: 'account-a', expected: NO_STREAM, actual: 0n });
      expect(await store.readStream('account-a')).toHaveLength(1);
    });

    it('tells listeners of each append', async () => {
      const seen: string[] = [];
      store.onAppended((position) => seen.push(position));
      const result = await store.appendToStream('account-a', [event('a0')], NO_STREAM);
      expect(seen).toEqual([result.position]);
    });
  });

  it('follows the account streams through the filtered subscription: their events once, and checkpoints past the rest', async () => {
    const chunks: LogChunk[] = [];
    let stored = START;
    const subscription = store.subscribeToAll(
      { from: async () => stored, streamPrefixes: ['account-'], maxBatchSize: 10, pollIntervalMs: 1000 },
      {
        handle: async (chunk) => {
          chunks.push(chunk);
          stored = chunk.position;
        },
        onError: (error) => {
          throw error;
        },
      },
    );
    const until = async (condition: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`gave up at ${stored}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    try {
      const a0 = await store.appendToStream('account-a', [event('a0')], NO_STREAM);
      await until(() => stored === a0.position);
      for (let i = 0; i < 70; i++) await store.appendToStream(`external-id-${i}`, [event('reserved')], NO_STREAM);
      writeNoise(30);
      // No event to hand over, yet the position moves on: a checkpoint among the 100 others.
      await until(() => stored > a0.position);
      expect(chunks.at(-1)!.events).toEqual([]);
      const b0 = await store.appendToStream('account-b', [event('b0')], NO_STREAM);
      await until(() => stored === b0.position);
      expect(chunks.flatMap((c) => c.events.map((e) => e.type))).toEqual(['a0', 'b0']);
    } finally {
      await subscription.stop();
    }
  });

  it('on close, stops its subscriptions and disposes of the client', async () => {
    let handled = 0;
    store.subscribeToAll(
      { from: async () => START, streamPrefixes: ['account-'], maxBatchSize: 10, pollIntervalMs: 1000 },
      { handle: async () => void (handled += 1), onError: () => undefined },
    );
    await store.close();
    expect(client.disposed).toBe(true);
    await client.appendToStream('account-a', [{ id: randomUUID(), contentType: 'application/json', type: 'a0', data: {}, metadata: undefined }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handled).toBe(0);
  });
});

// One client for every instance a test opens: they share its log as instances share a server.
eventStoreContract(
  'EventStoreDB adapter on an in-memory client',
  async () => {
    const client = new FakeEventStoreDbClient();
    return { open: async () => new EventStoreDbEventStore(client, { retryDelays: { firstMs: 10, maxMs: 50 } }), dispose: async () => undefined };
  },
  { noChildProcesses: 'an in-memory client cannot be shared with another process (the EventStoreDB contract spec runs it against a server)' },
);
