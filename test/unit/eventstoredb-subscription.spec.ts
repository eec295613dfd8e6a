// The EventStoreDB subscription's own logic (chunks, checkpoints, resubscription, stop) against the
// client's real Subscription stream and event conversion, fed protobuf answers through a fake gRPC
// call: only the network is missing.
import { PassThrough } from 'node:stream';
import { START as ESDB_START, UnavailableError, type AllStreamSubscription, type PrefixesFilter, type SubscribeToAllOptions } from '@eventstore/db-client';
import { Subscription } from '@eventstore/db-client/dist/streams/utils/Subscription';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils/convertGrpcEvent';
import type { ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { status } from '@grpc/grpc-js';
import { encodePosition } from '../../src/storage/eventstoredb/eventstoredb-mapping';
import { EventStoreDbAllSubscription, SubscribingClient, SubscriptionEnded } from '../../src/storage/eventstoredb/eventstoredb-subscription';
import { LogChunk, Position, START } from '../../src/storage/event-store.port';
import { checkpointResponse, confirmationResponse, eventResponse, serviceError } from '../support/eventstoredb-wire';

/** The server side of one gRPC read call: the test writes answers into it. */
class FakeCall extends PassThrough {
  cancelled = false;
  constructor() {
    super({ objectMode: true });
  }
  send(...responses: ReadResp[]) {
    for (const response of responses) this.write(response);
  }
  /** What grpc-js does when the client cancels: an error the client recognises and keeps to itself. */
  cancel() {
    this.cancelled = true;
    this.emit('error', serviceError(status.CANCELLED, 'Cancelled on client'));
  }
}

/** A client whose subscribeToAll builds the client's own Subscription over a FakeCall. */
class FakeServer implements SubscribingClient {
  readonly calls: Array<{ options: SubscribeToAllOptions; call: FakeCall }> = [];
  private readonly opened: Array<() => void> = [];

  subscribeToAll(options: SubscribeToAllOptions = {}): AllStreamSubscription {
    const call = new FakeCall();
    this.calls.push({ options, call });
    for (const notify of this.opened.splice(0)) notify();
    return new Subscription(async () => call as never, convertGrpcEvent, {}, options.filter?.checkpointReached) as unknown as AllStreamSubscription;
  }

  /** The call of the n-th subscription (0-based), once the adapter has made it. */
  async call(n: number): Promise<FakeCall> {
    while (this.calls.length <= n) await new Promise<void>((resolve) => this.opened.push(resolve));
    return this.calls[n].call;
  }
}

const ACCOUNT = 'account-';
const at = (commit: bigint) => encodePosition({ commit, prepare: commit });
const accountEvent = (commit: bigint, revision = 0n) => eventResponse({ stream: `account-acc_${commit}`, revision, commit, type: `e${commit}` });

interface Harness {
  server: FakeServer;
  chunks: LogChunk[];
  errors: unknown[];
  subscription: EventStoreDbAllSubscription;
  stored(): Position;
  until(condition: () => boolean): Promise<void>;
}

/** A consumer like the projection's: it stores each chunk's position and gives it back as `from`. */
function subscribe(options: { from?: Position; maxBatchSize?: number; handle?: (chunk: LogChunk) => Promise<void> } = {}): Harness {
  const server = new FakeServer();
  const chunks: LogChunk[] = [];
  const errors: unknown[] = [];
  let stored = options.from ?? START;
  const subscription = new EventStoreDbAllSubscription(
    server,
    { from: async () => stored, streamPrefixes: [ACCOUNT], maxBatchSize: options.maxBatchSize ?? 100, pollIntervalMs: 1000 },
    {
      handle: async (chunk) => {
        await options.handle?.(chunk);
        chunks.push(chunk);
        stored = chunk.position;
      },
      onError: (error) => errors.push(error),
    },
    { firstMs: 10, maxMs: 80 },
  );
  harnesses.push(subscription);
  return {
    server,
    chunks,
    errors,
    subscription,
    stored: () => stored,
    async until(condition) {
      const deadline = Date.now() + 5000;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`gave up; chunks: ${JSON.stringify(chunks.map((c) => [c.position, c.events.map((e) => e.type)]))}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    },
  };
}

let harnesses: EventStoreDbAllSubscription[] = [];
afterEach(async () => {
  for (const subscription of harnesses) await subscription.stop();
  harnesses = [];
});

const typesOf = (chunks: LogChunk[]) => chunks.flatMap((c) => c.events.map((e) => e.type));

describe('EventStoreDB subscription to $all', () => {
  it('subscribes from the stored position with a server-side filter on the stream prefixes that reports checkpoints', async () => {
    const fromStart = subscribe();
    await fromStart.server.call(0);
    expect(fromStart.server.calls[0].options.fromPosition).toBe(ESDB_START);

    const resumed = subscribe({ from: encodePosition({ commit: 900n, prepare: 899n }) });
    await resumed.server.call(0);
    const { fromPosition, filter } = resumed.server.calls[0].options;
    expect(fromPosition).toEqual({ commit: 900n, prepare: 899n });
    expect(filter).toMatchObject({ filterOn: 'streamName', prefixes: [ACCOUNT], checkpointInterval: 1 });
    expect(typeof (filter as PrefixesFilter).checkpointReached).toBe('function');
  });

  it('hands events over in order, in chunks of at most maxBatchSize, each positioned at its last event', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The first chunk is held so the rest pile up in the queue.
    const t = subscribe({ maxBatchSize: 2, handle: (chunk) => (chunk.events[0]?.type === 'e10' ? gate : Promise.resolve()) });
    const call = await t.server.call(0);
    call.send(confirmationResponse(), accountEvent(10n));
    await t.until(() => call.readableLength === 0);
    call.send(accountEvent(20n), accountEvent(30n), accountEvent(40n), accountEvent(50n), accountEvent(60n));
    release();
    await t.until(() => typesOf(t.chunks).length === 6);
    expect(typesOf(t.chunks)).toEqual(['e10', 'e20', 'e30', 'e40', 'e50', 'e60']);
    for (const chunk of t.chunks) {
      expect(chunk.events.length).toBeLessThanOrEqual(2);
      expect(chunk.position).toBe(chunk.events.at(-1)!.position);
    }
    expect(t.stored()).toBe(at(60n));
  });

  it('moves the stored position on a checkpoint, past the events the server filtered out', async () => {
    const t = subscribe();
    const call = await t.server.call(0);
    call.send(accountEvent(10n), checkpointResponse(500n, 500n));
    await t.until(() => t.stored() === at(500n));
    // The checkpoint may come in the chunk of the event before it, or alone: either way it is stored.
    expect(t.chunks.at(-1)!.position).toBe(at(500n));
    expect(typesOf(t.chunks)).toEqual(['e10']);
  });

  it('hands over nothing for a checkpoint that does not move past what it already handed over', async () => {
    const t = subscribe();
    const call = await t.server.call(0);
    // Some servers report a checkpoint behind an event they have already sent.
    call.send(accountEvent(100n), checkpointResponse(90n), checkpointResponse(100n), accountEvent(110n));
    await t.until(() => typesOf(t.chunks).length === 2);
    expect(t.chunks.map((c) => c.position)).toEqual([at(100n), at(110n)].slice(0, t.chunks.length));
    for (let i = 1; i < t.chunks.length; i++) expect(t.chunks[i].position > t.chunks[i - 1].position).toBe(true);
  });

  it('never stores a checkpoint ahead of an event sent before it, even while that event waits in the stream', async () => {
    let slow = true;
    const t = subscribe({ maxBatchSize: 3, handle: () => (slow ? new Promise((resolve) => setTimeout(resolve, 5)) : Promise.resolve()) });
    const call = await t.server.call(0);
    // More than the queue holds: the stream is paused with events in its buffer when the checkpoint comes.
    const commits = Array.from({ length: 120 }, (_, i) => BigInt(10 * (i + 1)));
    call.send(...commits.map((c) => accountEvent(c)), checkpointResponse(5000n), accountEvent(6000n));
    await t.until(() => t.stored() === at(6000n));
    slow = false;
    expect(typesOf(t.chunks)).toEqual([...commits.map((c) => `e${c}`), 'e6000']);
    for (let i = 1; i < t.chunks.length; i++) {
      for (const event of t.chunks[i].events) expect(event.position > t.chunks[i - 1].position).toBe(true);
    }
    expect(t.chunks.some((c) => c.position === at(5000n))).toBe(true);
  });

  it('resubscribes after the connection fails, from the position the consumer stored, and tells the consumer why', async () => {
    const t = subscribe();
    const first = await t.server.call(0);
    first.send(accountEvent(10n), accountEvent(20n));
    await t.until(() => t.stored() === at(20n));
    first.emit('error', serviceError(status.UNAVAILABLE, 'Connection dropped'));
    const second = await t.server.call(1);
    expect(t.server.calls[1].options.fromPosition).toEqual({ commit: 20n, prepare: 20n });
    expect(t.errors).toEqual([expect.any(UnavailableError)]);
    second.send(accountEvent(30n));
    await t.until(() => t.stored() === at(30n));
    expect(typesOf(t.chunks)).toEqual(['e10', 'e20', 'e30']);
    expect(first.cancelled).toBe(true);
  });

  it('resubscribes when the server ends the subscription', async () => {
    const t = subscribe();
    const first = await t.server.call(0);
    first.send(accountEvent(10n));
    await t.until(() => t.stored() === at(10n));
    first.end();
    await t.server.call(1);
    expect(t.errors).toEqual([expect.any(SubscriptionEnded)]);
    expect(t.server.calls[1].options.fromPosition).toEqual({ commit: 10n, prepare: 10n });
  });

  it('resubscribes after the consumer fails, from its stored position, so the failed chunk comes again', async () => {
    let failures = 1;
    const t = subscribe({
      handle: async () => {
        if (failures-- > 0) throw new Error('the read model is locked');
      },
    });
    const first = await t.server.call(0);
    first.send(accountEvent(10n));
    const second = await t.server.call(1);
    expect(first.cancelled).toBe(true);
    expect(t.server.calls[1].options.fromPosition).toBe(ESDB_START);
    expect(t.errors).toEqual([new Error('the read model is locked')]);
    second.send(accountEvent(10n));
    await t.until(() => t.stored() === at(10n));
    expect(typesOf(t.chunks)).toEqual(['e10']);
  });

  it('waits longer after each failure in a row while the server stays unavailable', async () => {
    const t = subscribe();
    const openedAt: number[] = [];
    for (let n = 0; n < 5; n++) {
      const call = await t.server.call(n);
      openedAt.push(Date.now());
      call.emit('error', serviceError(status.UNAVAILABLE, 'No connection established'));
    }
    await t.until(() => t.errors.length === 5);
    const pauses = openedAt.slice(1).map((time, i) => time - openedAt[i]);
    // 10, 20, 40, 80 ms at least (a timer never fires early; it may fire late on a busy machine).
    [10, 20, 40, 80].forEach((least, i) => expect(pauses[i]).toBeGreaterThanOrEqual(least - 1));
    expect(t.errors.every((error) => error instanceof UnavailableError)).toBe(true);
  });

  it('stops: waits for the chunk being handled, cancels the call, and hands over nothing after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handling = false;
    const t = subscribe({ handle: () => ((handling = true), gate) });
    const call = await t.server.call(0);
    call.send(accountEvent(10n));
    await t.until(() => handling);
    let stopped = false;
    const stopping = t.subscription.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(call.cancelled).toBe(true);
    const handed = t.chunks.length;
    call.send(accountEvent(20n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.chunks).toHaveLength(handed);
    expect(t.server.calls).toHaveLength(1);
    expect(t.errors).toEqual([]);
  });

  it('passes by an event of a stream the filter should have kept out', async () => {
    const t = subscribe();
    const call = await t.server.call(0);
    call.send(eventResponse({ stream: 'external-id-ab12', revision: 0n, commit: 10n }), accountEvent(20n));
    await t.until(() => t.stored() === at(20n));
    expect(typesOf(t.chunks)).toEqual(['e20']);
  });

  it('fails, and resubscribes, on an event of its streams it cannot read rather than skipping it', async () => {
    const t = subscribe();
    const call = await t.server.call(0);
    call.send(eventResponse({ stream: 'account-acc_1', revision: 0n, commit: 10n, contentType: 'application/octet-stream', data: new Uint8Array([1]) }));
    await t.server.call(1);
    expect(String(t.errors[0])).toMatch(/is not a JSON object/);
    expect(t.chunks).toEqual([]);
    expect(call.cancelled).toBe(true);
  });
});
