import { randomUUID } from 'node:crypto';
import { ANY, EventStore, NO_STREAM, Position, START, WrongExpectedRevision } from '../../src/storage/event-store.port';

/** Reopens the same store (same files or same server) as a fresh instance. */
export interface EventStoreFixture {
  open(): Promise<EventStore>;
  dispose(): Promise<void>;
}

const event = (type: string, data: Record<string, unknown> = {}) => ({ id: randomUUID(), type, data, metadata: { schema_version: 1 } });

/** Every adapter of the EventStore port must pass this suite unchanged. */
export function eventStoreContract(name: string, makeFixture: () => Promise<EventStoreFixture>) {
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;
    // Streams are unique per test so the suite can run against a shared server.
    const stream = () => `contract-${randomUUID()}`;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
    });
    afterEach(async () => {
      await store.close();
      await fixture.dispose();
    });

    it('appends to a new stream with NO_STREAM, revisions from 0n', async () => {
      const s = stream();
      const result = await store.appendToStream(s, [event('a'), event('b')], NO_STREAM);
      expect(result.nextExpectedRevision).toBe(1n);
      const read = await store.readStream(s);
      expect(read.map((e) => [e.type, e.revision])).toEqual([['a', 0n], ['b', 1n]]);
      expect(read[1].position).toBe(result.position);
      expect(read[0].position < read[1].position).toBe(true);
    });

    it('refuses NO_STREAM on an existing stream, and a stale revision, with WrongExpectedRevision', async () => {
      const s = stream();
      await store.appendToStream(s, [event('a')], NO_STREAM);
      await expect(store.appendToStream(s, [event('b')], NO_STREAM)).rejects.toBeInstanceOf(WrongExpectedRevision);
      await store.appendToStream(s, [event('b')], 0n);
      const stale = await store.appendToStream(s, [event('c')], 0n).catch((e) => e);
      expect(stale).toBeInstanceOf(WrongExpectedRevision);
      expect(stale.actual).toBe(1n);
      await expect(store.appendToStream(stream(), [event('x')], 3n)).rejects.toBeInstanceOf(WrongExpectedRevision);
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['a', 'b']);
    });

    it('appends with ANY whatever the revision', async () => {
      const s = stream();
      await store.appendToStream(s, [event('a')], ANY);
      await store.appendToStream(s, [event('b')], ANY);
      expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0n, 1n]);
    });

    it('reads an absent stream as empty', async () => {
      expect(await store.readStream(stream())).toEqual([]);
    });

    it('lets exactly one of many concurrent writers at the same revision win', async () => {
      const s = stream();
      await store.appendToStream(s, [event('a')], NO_STREAM);
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.appendToStream(s, [event(`w${i}`)], 0n)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(WrongExpectedRevision);
      expect(await store.readStream(s)).toHaveLength(2);
    });

    it('keeps data and metadata exactly, unicode included', async () => {
      const s = stream();
      const data = { text: 'Zoë 🌍 「名前」', nested: { list: [1, 2.5, null, true] } };
      await store.appendToStream(s, [{ ...event('a', data), metadata: { request_id: 'r1', prev_hash: null } }], NO_STREAM);
      const [read] = await store.readStream(s);
      expect(read.data).toEqual(data);
      expect(read.metadata).toEqual({ request_id: 'r1', prev_hash: null });
    });

    it('reads the global log in order from a position, in pages', async () => {
      const before = await lastPosition(store);
      const a = stream();
      const b = stream();
      await store.appendToStream(a, [event('a0')], NO_STREAM);
      await store.appendToStream(b, [event('b0'), event('b1')], NO_STREAM);
      await store.appendToStream(a, [event('a1')], 0n);
      const page1 = (await store.readAll(before, 2)).filter((e) => e.stream === a || e.stream === b);
      const rest = await store.readAll(page1.at(-1)!.position, 100);
      const ours = [...page1, ...rest.filter((e) => e.stream === a || e.stream === b)];
      expect(ours.map((e) => e.type)).toEqual(['a0', 'b0', 'b1', 'a1']);
      const positions = ours.map((e) => e.position);
      expect([...positions].sort((x, y) => (x < y ? -1 : 1))).toEqual(positions);
    });

    it('records when the store wrote each event, to the millisecond', async () => {
      const s = stream();
      const before0 = await lastPosition(store);
      const before = Math.floor(Date.now());
      await store.appendToStream(s, [event('a')], NO_STREAM);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.appendToStream(s, [event('b')], 0n);
      const after = Date.now();
      const [a, b] = await store.readStream(s);
      for (const read of [a, b]) {
        expect(read.recordedAt).toBeInstanceOf(Date);
        expect(read.recordedAt.getTime()).toBeGreaterThanOrEqual(before);
        expect(read.recordedAt.getTime()).toBeLessThanOrEqual(after);
      }
      expect(b.recordedAt.getTime()).toBeGreaterThan(a.recordedAt.getTime());
      // The same from the global log.
      const fromLog = (await store.readAll(before0, 1))[0];
      expect(fromLog.id).toBe(a.id);
      expect(fromLog.recordedAt).toEqual(a.recordedAt);
    });

    it('tells its listeners of each append', async () => {
      const seen: Position[] = [];
      const stop = store.onAppended((p) => seen.push(p));
      const result = await store.appendToStream(stream(), [event('a')], NO_STREAM);
      stop();
      await store.appendToStream(stream(), [event('b')], NO_STREAM);
      expect(seen).toEqual([result.position]);
    });

    it('tells the position of the last event in the log, also one that another instance wrote', async () => {
      expect(await store.headPosition()).toBe(await lastPosition(store));
      const mine = await store.appendToStream(stream(), [event('a'), event('b')], NO_STREAM);
      expect(await store.headPosition()).toBe(mine.position);
      const other = await fixture.open();
      try {
        const theirs = await other.appendToStream(stream(), [event('c')], NO_STREAM);
        expect(await store.headPosition()).toBe(theirs.position);
      } finally {
        await other.close();
      }
    });

    it('still has every acknowledged event after it is closed and opened again', async () => {
      const s = stream();
      await store.appendToStream(s, [event('a'), event('b')], NO_STREAM);
      await store.close();
      store = await fixture.open();
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['a', 'b']);
    });
  });
}

async function lastPosition(store: EventStore): Promise<Position> {
  let position = START;
  for (;;) {
    const page = await store.readAll(position, 1000);
    if (page.length === 0) return position;
    position = page.at(-1)!.position;
  }
}
