import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import { hashOfStoredEvent } from '../../src/accounts/application/event-chain';
import { ANY, EventStore, LogChunk, NO_STREAM, Position, RecordedEvent, START, WrongExpectedRevision } from '../../src/storage/event-store.port';
import { RaceRound, startStoreProcesses, StoreOpener } from '../support/event-store-process';

/** Reopens the same store (same files or same server) as a fresh instance, here or in another process. */
export interface EventStoreFixture {
  open(): Promise<EventStore>;
  /** How another process opens this same store (test/support/event-store-process.ts); absent where none can (ContractOptions.noChildProcesses). */
  inChildProcess?: StoreOpener;
  dispose(): Promise<void>;
}

export interface ContractOptions {
  /** Why this fixture cannot be opened from another process (an in-memory fake): printed, and those tests skipped. */
  noChildProcesses?: string;
}

const ROOT = join(__dirname, '../..');

const event = (type: string, data: Record<string, unknown> = {}) => ({ id: randomUUID(), type, data, metadata: { schema_version: 1 } });

/** Every adapter of the EventStore port must pass this suite unchanged. */
export function eventStoreContract(name: string, makeFixture: () => Promise<EventStoreFixture>, options: ContractOptions = {}) {
  if (options.noChildProcesses) process.stdout.write(`EventStore contract: ${name}: the two-process test is skipped: ${options.noChildProcesses}\n`);
  const itInProcesses = options.noChildProcesses ? it.skip : it;
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;
    // Stream names are unique per test, and positions are taken relative to the head at the start
    // of a test, so the suite can run against a shared server that holds other data.
    const stream = (prefix = 'contract-') => `${prefix}${randomUUID()}`;
    const uniquePrefix = () => `contract${randomUUID().replace(/-/g, '')}-`;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
    });
    afterEach(async () => {
      await store.close();
      await fixture.dispose();
    });

    describe('streams', () => {
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
        const existing = await store.appendToStream(s, [event('b')], NO_STREAM).catch((e) => e);
        expect(existing).toBeInstanceOf(WrongExpectedRevision);
        expect(existing).toMatchObject({ stream: s, expected: NO_STREAM, actual: 0n });
        await store.appendToStream(s, [event('b')], 0n);
        const stale = await store.appendToStream(s, [event('c')], 0n).catch((e) => e);
        expect(stale).toBeInstanceOf(WrongExpectedRevision);
        expect(stale).toMatchObject({ stream: s, expected: 0n, actual: 1n });
        const absent = stream();
        const missing = await store.appendToStream(absent, [event('x')], 3n).catch((e) => e);
        expect(missing).toBeInstanceOf(WrongExpectedRevision);
        expect(missing).toMatchObject({ stream: absent, expected: 3n, actual: NO_STREAM });
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['a', 'b']);
        expect(await store.readStream(absent)).toEqual([]);
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

      it('stores the events of an append retried with the same event ids only once', async () => {
        const s = stream();
        const events = [event('a'), event('b')];
        const first = await store.appendToStream(s, events, NO_STREAM);
        // A client that lost the answer and tries again: harmless, whether the store answers with the
        // first result (EventStoreDB's idempotent append) or refuses the revision (SQLite).
        const retried = await store.appendToStream(s, events, NO_STREAM).then(
          (result) => result,
          (error: unknown) => error,
        );
        if (retried instanceof Error) expect(retried).toBeInstanceOf(WrongExpectedRevision);
        else expect(retried).toEqual(first);
        expect((await store.readStream(s)).map((e) => e.id)).toEqual(events.map((e) => e.id));
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

      it('still has every acknowledged event after it is closed and opened again', async () => {
        const s = stream();
        await store.appendToStream(s, [event('a'), event('b')], NO_STREAM);
        await store.close();
        store = await fixture.open();
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['a', 'b']);
      });
    });

    // Appends made in the same moment: a store may commit them together (SQLite, PostgreSQL: group
    // commit), but each is decided on its own and each caller gets its own answer.
    describe('appends arriving together', () => {
      /** What each caller can check of its own result: it names the last of its own events, as read back. */
      async function expectOwnResult(s: string, appended: { id: string }[], result: { nextExpectedRevision: bigint; position: Position }) {
        const read = await store.readStream(s);
        expect(read.map((e) => e.id)).toEqual(appended.map((e) => e.id));
        expect(result).toEqual({ nextExpectedRevision: BigInt(appended.length - 1), position: read.at(-1)!.position });
      }

      it('to one stream at one expected revision: exactly one wins, every other gets WrongExpectedRevision naming the winner\'s revision', async () => {
        for (const expected of [NO_STREAM, 0n] as const) {
          const s = stream();
          const first = [event('first')];
          if (expected === 0n) await store.appendToStream(s, first, NO_STREAM);
          const attempts = Array.from({ length: 25 }, (_, i) => [event(`w${i}`), event(`w${i}-more`)]);
          const results = await Promise.allSettled(attempts.map((events) => store.appendToStream(s, events, expected)));
          const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ events: attempts[i], result: r.value }] : []));
          expect(won).toHaveLength(1);
          const winnerHead = expected === NO_STREAM ? 1n : 2n;
          for (const r of results) {
            if (r.status === 'rejected') expect(r.reason).toEqual(expect.objectContaining({ name: 'WrongExpectedRevision', stream: s, expected, actual: winnerHead }));
            if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(WrongExpectedRevision);
          }
          const read = await store.readStream(s);
          expect(read.map((e) => e.id)).toEqual([...(expected === 0n ? first : []), ...won[0].events].map((e) => e.id));
          expect(won[0].result).toEqual({ nextExpectedRevision: winnerHead, position: read.at(-1)!.position });
        }
      });

      it('to different streams: all land, each caller told its own stream\'s revision and position', async () => {
        const before = await store.headPosition();
        const streams = Array.from({ length: 30 }, () => stream());
        const appended = streams.map((_, i) => Array.from({ length: 1 + (i % 3) }, (_, n) => event(`e${i}.${n}`)));
        const results = await Promise.all(streams.map((s, i) => store.appendToStream(s, appended[i], NO_STREAM)));
        for (const [i, s] of streams.entries()) await expectOwnResult(s, appended[i], results[i]);
        expect(new Set(results.map((r) => r.position)).size).toBe(streams.length);
        // Each event once in the global log, after where it stood before.
        const ids = new Set<string>(appended.flat().map((e) => e.id));
        const logged = (await store.readAll(before, 10_000)).filter((e) => ids.has(e.id));
        expect(logged.map((e) => e.id).sort()).toEqual([...ids].sort());
      });

      it('with some that fail among them: the others land, and no caller gets another\'s result or error', async () => {
        const existing = Array.from({ length: 5 }, () => stream());
        for (const s of existing) await store.appendToStream(s, [event('a'), event('b')], NO_STREAM);
        const fresh = Array.from({ length: 20 }, () => stream());
        const freshEvents = fresh.map((_, i) => [event(`f${i}`), event(`f${i}-more`)]);
        // Interleaved: stale ones (expecting 0n of streams at 1n) between fresh ones, all sent at once.
        type Call = { stale: boolean; s: string; events: ReturnType<typeof event>[]; append: Promise<{ nextExpectedRevision: bigint; position: Position }> };
        const calls: Call[] = [];
        for (const [i, s] of fresh.entries()) {
          calls.push({ stale: false, s, events: freshEvents[i], append: store.appendToStream(s, freshEvents[i], NO_STREAM) });
          if (i % 4 === 1) {
            const late = [event('late')];
            const staleStream = existing[(i - 1) / 4];
            calls.push({ stale: true, s: staleStream, events: late, append: store.appendToStream(staleStream, late, 0n) });
          }
        }
        const results = await Promise.allSettled(calls.map((c) => c.append));
        for (const [i, call] of calls.entries()) {
          const result = results[i];
          if (call.stale) {
            expect(result.status).toBe('rejected');
            const error = (result as PromiseRejectedResult).reason;
            expect(error).toBeInstanceOf(WrongExpectedRevision);
            expect(error).toMatchObject({ stream: call.s, expected: 0n, actual: 1n });
          } else {
            expect(result.status).toBe('fulfilled');
            await expectOwnResult(call.s, call.events, (result as PromiseFulfilledResult<Awaited<Call['append']>>).value);
          }
        }
        for (const s of existing) expect((await store.readStream(s)).map((e) => e.type)).toEqual(['a', 'b']);
      });
    });

    describe('the global log', () => {
      it('reads the global log in order from a position, in pages', async () => {
        const before = await store.headPosition();
        const a = stream();
        const b = stream();
        await store.appendToStream(a, [event('a0')], NO_STREAM);
        await store.appendToStream(b, [event('b0'), event('b1')], NO_STREAM);
        await store.appendToStream(a, [event('a1')], 0n);
        const page1 = await store.readAll(before, 2);
        expect(page1).toHaveLength(2);
        const rest = await store.readAll(page1.at(-1)!.position, 100);
        const ours = [...page1, ...rest].filter((e) => e.stream === a || e.stream === b);
        expect(ours.map((e) => e.type)).toEqual(['a0', 'b0', 'b1', 'a1']);
        expectIncreasing(ours.map((e) => e.position));
      });

      it('reads, while other instances write concurrently, every acknowledged event once and in order: no gap', async () => {
        const before = await store.headPosition();
        const prefix = uniquePrefix();
        const writers = [store, await fixture.open(), await fixture.open()];
        const seen: RecordedEvent[] = [];
        let writing = true;
        // Small pages, read while the writes land: a store that exposes an event before an earlier one
        // commits would make this reader step past the earlier one for good.
        const reader = (async () => {
          let position = before;
          for (;;) {
            const stillWriting = writing;
            const page = await store.readAll(position, 3);
            if (page.length) {
              seen.push(...page);
              position = page.at(-1)!.position;
            } else if (!stillWriting) return;
            else await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        try {
          const appended = await Promise.all(
            writers.flatMap((writer, w) =>
              Array.from({ length: 10 }, async (_, i) => {
                const events = [event(`w${w}-${i}-0`), event(`w${w}-${i}-1`)];
                const result = await writer.appendToStream(`${prefix}${w}-${i}`, events, NO_STREAM);
                return { events, result };
              }),
            ),
          );
          writing = false;
          await reader;
          const ours = seen.filter((e) => e.stream.startsWith(prefix));
          expect(new Set(ours.map((e) => e.id))).toEqual(new Set(appended.flatMap(({ events }) => events.map((e) => e.id))));
          expect(ours).toHaveLength(60);
          expectIncreasing(seen.map((e) => e.position));
          const positionById = new Map(ours.map((e) => [e.id, e.position]));
          for (const { events, result } of appended) expect(positionById.get(events[1].id)).toBe(result.position);
        } finally {
          writing = false;
          await reader.catch(() => undefined);
          for (const other of writers.slice(1)) await other.close();
        }
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
        expect(await store.headPosition()).toBe(await lastPosition(store, await store.headPosition()));
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
    });

    describe('subscriptions', () => {
      let subscribers: Subscriber[];
      beforeEach(() => (subscribers = []));
      afterEach(async () => {
        for (const subscriber of subscribers) await subscriber.stop();
      });
      const subscribe = (options: SubscribeOptions) => {
        const subscriber = follow(store, options);
        subscribers.push(subscriber);
        return subscriber;
      };

      it('hands over the events of matching streams in order, in chunks of at most maxBatchSize', async () => {
        const before = await store.headPosition();
        const prefix = uniquePrefix();
        const other = stream();
        await store.appendToStream(`${prefix}a`, [event('a0'), event('a1')], NO_STREAM);
        await store.appendToStream(other, [event('x0')], NO_STREAM);
        await store.appendToStream(`${prefix}b`, [event('b0')], NO_STREAM);
        await store.appendToStream(other, [event('x1')], 0n);
        await store.appendToStream(`${prefix}a`, [event('a2')], 1n);
        const subscriber = subscribe({ from: before, streamPrefixes: [prefix], maxBatchSize: 2 });
        await subscriber.until(() => subscriber.events().length >= 4);
        expect(subscriber.events().map((e) => e.type)).toEqual(['a0', 'a1', 'b0', 'a2']);
        expect(subscriber.events().map((e) => e.revision)).toEqual([0n, 1n, 0n, 2n]);
        for (const chunk of subscriber.chunks) {
          expect(chunk.events.length).toBeLessThanOrEqual(2);
          for (const e of chunk.events) expect(e.position <= chunk.position).toBe(true);
        }
        expectIncreasing(subscriber.chunks.map((c) => c.position));
        expect(subscriber.errors).toEqual([]);
      });

      it('resumes from a stored position: hands over what follows it, and nothing before', async () => {
        const before = await store.headPosition();
        const prefix = uniquePrefix();
        await store.appendToStream(`${prefix}a`, [event('a0'), event('a1'), event('a2')], NO_STREAM);
        const first = subscribe({ from: before, streamPrefixes: [prefix], maxBatchSize: 1 });
        await first.until(() => first.events().length >= 3);
        await first.stop();
        const storedAfterA1 = first.chunks.find((c) => c.events.some((e) => e.type === 'a1'))!.position;

        const resumed = subscribe({ from: storedAfterA1, streamPrefixes: [prefix], maxBatchSize: 1 });
        await store.appendToStream(`${prefix}b`, [event('b0')], NO_STREAM);
        await resumed.until(() => resumed.events().length >= 2);
        expect(resumed.events().map((e) => e.type)).toEqual(['a2', 'b0']);
      });

      it('moves its position past the events of other streams, which it does not hand over; resuming there skips them', async () => {
        const before = await store.headPosition();
        const prefix = uniquePrefix();
        const matching = await store.appendToStream(`${prefix}a`, [event('a0')], NO_STREAM);
        // Enough for EventStoreDB's server-side filter to report a checkpoint (every 32 events read).
        for (let i = 0; i < 4; i++) await store.appendToStream(stream(), Array.from({ length: 25 }, (_, j) => event(`x${i}-${j}`)), NO_STREAM);
        const subscriber = subscribe({ from: before, streamPrefixes: [prefix], maxBatchSize: 10 });
        await subscriber.until(() => subscriber.chunks.some((c) => c.position > matching.position));
        const passed = subscriber.chunks.map((c) => c.position).filter((p) => p > matching.position);
        expect(subscriber.events().map((e) => e.type)).toEqual(['a0']);
        await subscriber.stop();

        const resumed = subscribe({ from: passed.at(-1)!, streamPrefixes: [prefix], maxBatchSize: 10 });
        await store.appendToStream(`${prefix}b`, [event('b0')], NO_STREAM);
        await resumed.until(() => resumed.events().length >= 1);
        expect(resumed.events().map((e) => e.type)).toEqual(['b0']);
      });

      it('is reached at headPosition(prefixes) once it has handed over every matching event, whatever other streams hold after them', async () => {
        const before = await store.headPosition();
        const prefix = uniquePrefix();
        const matching = await store.appendToStream(`${prefix}a`, [event('a0')], NO_STREAM);
        await store.appendToStream(stream(), [event('x0')], NO_STREAM);
        const head = await store.headPosition([prefix]);
        expect(head >= matching.position).toBe(true);
        const subscriber = subscribe({ from: before, streamPrefixes: [prefix], maxBatchSize: 10 });
        await subscriber.until(() => subscriber.stored() >= head);
        expect(subscriber.events().map((e) => e.type)).toEqual(['a0']);
      });

      it('hands over events that other instances append while it runs, each once and in order', async () => {
        const prefix = uniquePrefix();
        const subscriber = subscribe({ from: await store.headPosition(), streamPrefixes: [prefix], maxBatchSize: 7 });
        const writers = [store, await fixture.open()];
        try {
          const appended = await Promise.all(
            writers.flatMap((writer, w) =>
              Array.from({ length: 10 }, async (_, i) => {
                const events = [event(`w${w}-${i}`)];
                await writer.appendToStream(`${prefix}${w}-${i}`, events, NO_STREAM);
                return events[0].id;
              }),
            ),
          );
          await subscriber.until(() => subscriber.events().length >= appended.length);
          expect(subscriber.events().map((e) => e.id).sort()).toEqual([...appended].sort());
          expectIncreasing(subscriber.events().map((e) => e.position));
        } finally {
          await writers[1].close();
        }
      });

      it('resubscribes from the consumer’s stored position after its handler fails, losing nothing', async () => {
        const before = await store.headPosition();
        const prefix = uniquePrefix();
        await store.appendToStream(`${prefix}a`, [event('a0'), event('a1')], NO_STREAM);
        const subscriber = subscribe({ from: before, streamPrefixes: [prefix], maxBatchSize: 1, failFirstChunks: 1 });
        await subscriber.until(() => subscriber.events().length >= 2);
        expect(subscriber.events().map((e) => e.type)).toEqual(['a0', 'a1']);
        expect(subscriber.errors).toEqual([expect.objectContaining({ message: 'the consumer failed' })]);
      });
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

    itInProcesses('lets exactly one of two processes take each revision of a stream', async () => {
      const s = stream();
      const rounds = 20;
      const racers = await startStoreProcesses(fixture.inChildProcess!, [{ kind: 'race', stream: s, rounds }, { kind: 'race', stream: s, rounds }]);
      const [a, b] = (await racers.go()) as RaceRound[][];
      for (let round = 0; round < rounds; round++) {
        expect([a[round].won, b[round].won].filter(Boolean)).toHaveLength(1);
        const loser = a[round].won ? b[round] : a[round];
        expect(loser.error).toBe('WrongExpectedRevision');
      }
      const events = await store.readStream(s);
      expect(events.map((e) => [e.type, e.revision])).toEqual(Array.from({ length: rounds }, (_, r) => [`round-${r}`, BigInt(r)]));
    });

    itInProcesses('reads the global log across streams in order and without a gap while processes write concurrently', async () => {
      const from = await lastPosition(store);
      const writers = await startStoreProcesses(
        fixture.inChildProcess!,
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

interface SubscribeOptions {
  from: Position;
  streamPrefixes: string[];
  maxBatchSize: number;
  /** The consumer throws on this many chunks first, storing nothing. */
  failFirstChunks?: number;
}

interface Subscriber {
  /** The chunks the consumer stored, in order. */
  chunks: LogChunk[];
  errors: unknown[];
  events(): RecordedEvent[];
  stored(): Position;
  until(condition: () => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A consumer like the projection: it keeps its position and hands it back as `from` on every (re)subscription. */
function follow(store: EventStore, options: SubscribeOptions): Subscriber {
  const chunks: LogChunk[] = [];
  const errors: unknown[] = [];
  const changed = new EventEmitter();
  let stored = options.from;
  let failures = options.failFirstChunks ?? 0;
  const subscription = store.subscribeToAll(
    { from: async () => stored, streamPrefixes: options.streamPrefixes, maxBatchSize: options.maxBatchSize, pollIntervalMs: 50 },
    {
      handle: async (chunk) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('the consumer failed');
        }
        expect(chunk.position > stored).toBe(true);
        chunks.push(chunk);
        stored = chunk.position;
        changed.emit('changed');
      },
      onError: (error) => errors.push(error),
    },
  );
  let stopped: Promise<void> | null = null;
  return {
    chunks,
    errors,
    events: () => chunks.flatMap((c) => c.events),
    stored: () => stored,
    async until(condition, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) {
          throw new Error(`Gave up waiting after ${timeoutMs} ms; chunks so far: ${JSON.stringify(chunks.map((c) => ({ position: c.position, types: c.events.map((e) => e.type) })))}; errors: ${errors.map(String).join(', ')}`);
        }
        await once(changed, 'changed', { signal: AbortSignal.timeout(100) }).catch(() => undefined);
      }
    },
    stop: () => (stopped ??= subscription.stop()),
  };
}


function expectIncreasing(positions: Position[]) {
  for (let i = 1; i < positions.length; i++) expect([positions[i - 1], positions[i - 1] < positions[i]]).toEqual([positions[i - 1], true]);
}

async function lastPosition(store: EventStore, from: Position = START): Promise<Position> {
  let position = from;
  for (;;) {
    const page = await store.readAll(position, 1000);
    if (page.length === 0) return position;
    position = page.at(-1)!.position;
  }
}
