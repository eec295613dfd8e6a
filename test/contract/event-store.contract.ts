import { randomUUID } from 'node:crypto';
import { hashOfStoredEvent } from '../../src/accounts/application/event-chain';
import { ANY, EventStore, NO_STREAM, Position, RecordedEvent, START, WrongExpectedRevision } from '../../src/storage/event-store.port';
import { RaceRound, startStoreProcesses, StoreOpener } from '../support/event-store-process';

/** Reopens the same store (same files or same server) as a fresh instance. */
export interface EventStoreFixture {
  open(): Promise<EventStore>;
  /** How another process opens this same store (test/support/event-store-process.ts). */
  inChildProcess: StoreOpener;
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

    it('reads events back so that they hash as they were appended: the hash chain holds', async () => {
      const s = stream();
      // Key orders a JSON store could "normalise" (jsonb sorts by length, then bytes; numeric-looking
      // keys aside), numbers, unicode, nesting.
      const appended = [
        { id: randomUUID(), type: 'a', data: { zeta: 1, a: { yy: [3, { b: 2, a: 1 }], x: 'é' }, m: 2.5, 'long key': null, 10: 'ten', 9: 'nine' }, metadata: { prev_hash: null, z: true, a: [] } },
        { id: randomUUID(), type: 'b', data: { personal: 'v1.abc-_', account_id: 'acc_1' }, metadata: { schema_version: 1, tenant: { organization_id: 'o', environment: 'staging' } } },
      ];
      await store.appendToStream(s, appended, NO_STREAM);
      const read = await store.readStream(s);
      expect(read.map(hashOfStoredEvent)).toEqual(appended.map(hashOfStoredEvent));
      expect(read.map((e) => Object.keys(e.data))).toEqual(appended.map((e) => Object.keys(e.data)));
    });

    it('lets exactly one of two processes take each revision of a stream', async () => {
      const s = stream();
      const rounds = 20;
      const racers = await startStoreProcesses(fixture.inChildProcess, [{ kind: 'race', stream: s, rounds }, { kind: 'race', stream: s, rounds }]);
      const [a, b] = (await racers.go()) as RaceRound[][];
      for (let round = 0; round < rounds; round++) {
        expect([a[round].won, b[round].won].filter(Boolean)).toHaveLength(1);
        const loser = a[round].won ? b[round] : a[round];
        expect(loser.error).toBe('WrongExpectedRevision');
      }
      const events = await store.readStream(s);
      expect(events.map((e) => [e.type, e.revision])).toEqual(Array.from({ length: rounds }, (_, r) => [`round-${r}`, BigInt(r)]));
    });

    it('reads the global log across streams in order and without a gap while processes write concurrently', async () => {
      const from = await lastPosition(store);
      const writers = await startStoreProcesses(
        fixture.inChildProcess,
        Array.from({ length: 3 }, () => ({ kind: 'write' as const, streams: [stream(), stream(), stream()], appends: 40, eventsPerAppend: 2 })),
      );
      // A projection's loop: small pages, each from the last position seen. An event that became
      // visible only after a later one had been read would be passed over for good.
      const seen: RecordedEvent[] = [];
      const read = async () => {
        const page = await store.readAll(seen.at(-1)?.position ?? from, 7);
        seen.push(...page);
        return page.length;
      };
      let writing = true;
      const written = writers.go().finally(() => (writing = false));
      written.catch(() => undefined); // awaited below, after the reading
      while (writing) {
        await read();
        // Lets the writers' exits be noticed even when reads do not wait on I/O (SQLite).
        await new Promise((resolve) => setImmediate(resolve));
      }
      while ((await read()) > 0);
      const eventIds = (await written).flatMap((outcome) => (outcome as { eventIds: string[] }).eventIds);

      const log: RecordedEvent[] = [];
      for (let page = await store.readAll(from, 1000); page.length; page = await store.readAll(page.at(-1)!.position, 1000)) log.push(...page);
      expect(seen.map((e) => e.position)).toEqual(log.map((e) => e.position));
      expect(log.map((e) => e.id)).toEqual(expect.arrayContaining(eventIds));
      expect(eventIds).toHaveLength(3 * 40 * 2);
      const positions = log.map((e) => e.position);
      expect(positions.every((p, i) => i === 0 || positions[i - 1] < p)).toBe(true);
    });

    it('resumes reading the global log from a checkpoint, in a new instance, with nothing missed or repeated', async () => {
      const from = await lastPosition(store);
      const [a, b] = [stream(), stream()];
      await store.appendToStream(a, [event('a0'), event('a1')], NO_STREAM);
      await store.appendToStream(b, [event('b0')], NO_STREAM);
      const firstRead = await store.readAll(from, 2);
      const checkpoint = firstRead.at(-1)!.position;
      await store.close();

      const writer = await fixture.open();
      try {
        await writer.appendToStream(a, [event('a2')], 1n);
      } finally {
        await writer.close();
      }
      store = await fixture.open();
      const rest = await store.readAll(checkpoint, 100);
      expect([...firstRead, ...rest].filter((e) => e.stream === a || e.stream === b).map((e) => e.type)).toEqual(['a0', 'a1', 'b0', 'a2']);
      expect(rest.every((e) => e.position > checkpoint)).toBe(true);
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
