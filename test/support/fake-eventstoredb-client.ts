// An in-memory stand-in for the EventStoreDB client, for the adapter's unit tests: it answers with
// the client's own classes (errors, Subscription, converted events) and EventStoreDB's documented
// semantics: reads of $all include the event at their starting position, in both directions; a
// subscription starts after it; a missing stream fails a read with StreamNotFoundError; an append
// repeated with the same event ids succeeds without writing again; the server-side filter sends a
// checkpoint after every 32 events it reads. Positions are byte offsets with commit = prepare.
import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import {
  ANY,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type AppendResult,
  type AppendToStreamOptions,
  type CurrentRevision,
  type EventData,
  type PrefixesFilter,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeToAllOptions,
} from '@eventstore/db-client';
import { Subscription } from '@eventstore/db-client/dist/streams/utils/Subscription';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils/convertGrpcEvent';
import { status } from '@grpc/grpc-js';
import type { EventStoreDbCalls } from '../../src/storage/eventstoredb/eventstoredb-event-store';
import { checkpointResponse, eventResponse, resolvedEvent, serviceError, WireEvent } from './eventstoredb-wire';

type Stored = WireEvent & { id: string; commit: bigint };

const CHECKPOINT_EVERY = 32;

/** A readable the way the client returns reads: objects, async-iterable, cancellable. */
function streamingRead<T>(items: T[], failure?: Error) {
  const readable = failure
    ? new Readable({
        objectMode: true,
        read() {
          this.destroy(failure);
        },
      })
    : Readable.from(items);
  return Object.assign(readable, { cancel: async () => void readable.destroy() });
}

export class FakeEventStoreDbClient implements EventStoreDbCalls {
  readonly log: Stored[] = [];
  /** Answers refused appends with `success: false`, like a connection string with throwOnAppendFailure=false. */
  throwOnAppendFailure = true;
  /** Answers appends without a position, as a server does for an append it recognises as a retry. */
  omitAppendPositions = false;
  disposed = false;
  private nextCommit = 1_000n;
  private readonly live = new Set<(events: Stored[]) => void>();

  /** Stores events the way EventStoreDB itself or another application would (system streams, bytes). */
  writeRaw(stream: string, events: Array<Omit<WireEvent, 'stream' | 'revision' | 'commit'>>): Stored[] {
    const revision = this.revisionOf(stream);
    const stored = events.map((event, i) => {
      // Events of different sizes: positions are byte offsets, not a count.
      this.nextCommit += 97n + BigInt(i % 5) * 13n;
      return { ...event, id: event.id ?? randomUUID(), stream, revision: (revision === NO_STREAM ? 0n : revision + 1n) + BigInt(i), commit: this.nextCommit, created: new Date() };
    });
    this.log.push(...stored);
    for (const feed of this.live) feed(stored);
    return stored;
  }

  async appendToStream(streamName: string, events: EventData | EventData[], options: AppendToStreamOptions = {}): Promise<AppendResult> {
    const proposed = Array.isArray(events) ? events : [events];
    const current = this.revisionOf(streamName);
    const ofStream = this.log.filter((e) => e.stream === streamName);
    const already = proposed.map((p) => ofStream.find((e) => e.id === p.id));
    if (already.every((e) => e !== undefined)) {
      return { success: true, nextExpectedRevision: already.at(-1)!.revision, position: this.omitAppendPositions ? undefined : positionOf(already.at(-1)!) };
    }
    const expected = options.expectedRevision ?? ANY;
    if (!matches(expected, current)) {
      if (!this.throwOnAppendFailure) return { success: false, nextExpectedRevision: current === NO_STREAM ? -1n : current, position: undefined };
      throw new WrongExpectedVersionError(undefined, { streamName, expected, current });
    }
    const stored = this.writeRaw(
      streamName,
      proposed.map((p) => ({ id: p.id, type: p.type, data: p.data, metadata: p.metadata, contentType: p.contentType })),
    );
    const last = stored.at(-1)!;
    return { success: true, nextExpectedRevision: last.revision, position: this.omitAppendPositions ? undefined : positionOf(last) };
  }

  readStream(streamName: string, options: ReadStreamOptions = {}) {
    let events = this.log.filter((e) => e.stream === streamName);
    if (events.length === 0) return streamingRead([], new StreamNotFoundError(undefined, streamName)) as never;
    if (options.direction === 'backwards') events = [...events].reverse();
    return streamingRead(events.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER)).map(resolvedEvent)) as never;
  }

  readAll(options: ReadAllOptions = {}) {
    const from = options.fromPosition ?? START;
    const backwards = options.direction === 'backwards';
    let events: Stored[];
    if (from === 'start') events = backwards ? [] : this.log;
    else if (from === 'end') events = backwards ? [...this.log].reverse() : [];
    else events = backwards ? this.log.filter((e) => e.commit <= from.commit).reverse() : this.log.filter((e) => e.commit >= from.commit);
    return streamingRead(events.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER)).map(resolvedEvent)) as never;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllStreamSubscription {
    const filter = options.filter as PrefixesFilter | undefined;
    const from = options.fromPosition ?? START;
    const call = Object.assign(new PassThrough({ objectMode: true }), {
      cancel: () => {
        this.live.delete(feed);
        call.emit('error', serviceError(status.CANCELLED, 'Cancelled on client'));
      },
    });
    let read = 0;
    const feed = (events: Stored[]) => {
      for (const event of events) {
        read += 1;
        if (!filter || filter.prefixes.some((prefix) => event.stream.startsWith(prefix))) call.write(eventResponse(event));
        if (filter && read % (CHECKPOINT_EVERY * filter.checkpointInterval) === 0) call.write(checkpointResponse(event.commit));
      }
    };
    feed(from === 'start' ? this.log : from === 'end' ? [] : this.log.filter((e) => e.commit > from.commit));
    this.live.add(feed);
    return new Subscription(async () => call as never, convertGrpcEvent, {}, filter?.checkpointReached) as unknown as AllStreamSubscription;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  private revisionOf(stream: string): CurrentRevision {
    const events = this.log.filter((e) => e.stream === stream);
    return events.length ? events.at(-1)!.revision : NO_STREAM;
  }
}

const positionOf = (event: Stored) => ({ commit: event.commit, prepare: event.commit });

function matches(expected: AppendExpectedRevision, current: CurrentRevision): boolean {
  if (expected === ANY) return true;
  if (expected === NO_STREAM) return current === NO_STREAM;
  if (expected === 'stream_exists') return current !== NO_STREAM;
  return expected === current;
}
