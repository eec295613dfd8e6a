// The event store port. Its semantics follow EventStoreDB's client so both adapters behave alike:
// revisions are bigint and start at 0n, NO_STREAM means "this stream must not exist yet".

import { pollingSubscription } from './polling-subscription';

/**
 * A place in the global log, opaque to everything but its adapter. EventStoreDB's is a
 * { commit, prepare } pair, SQLite's and PostgreSQL's a sequence number: each adapter writes its
 * positions as fixed-width strings, so two positions of one store compare as strings (`a < b`:
 * a is earlier) and are stored and sent as they are. No bigint ever meets JSON.stringify.
 */
export type Position = string;

/**
 * How far along the log a position is, as a number, for progress bars only: every adapter's
 * positions begin with a fixed-width decimal that grows along the log (a sequence number, or
 * EventStoreDB's commit position), so its value is a fair measure of progress.
 */
export function progressOf(position: Position): number {
  return Number(/^\d+/.exec(position)?.[0] ?? 0);
}

export const NO_STREAM = 'no_stream' as const;
export const ANY = 'any' as const;
export type ExpectedRevision = bigint | typeof NO_STREAM | typeof ANY;

export interface EventToAppend {
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export interface RecordedEvent extends EventToAppend {
  stream: string;
  revision: bigint;
  /** Position in the global log: strictly increasing, comparable across streams. */
  position: Position;
  /** When the store recorded the event, to the millisecond (EventStoreDB: `created`). */
  recordedAt: Date;
}

export interface AppendResult {
  nextExpectedRevision: bigint;
  position: Position;
}

/** The stream is not at the revision the writer expected: somebody else wrote first. */
export class WrongExpectedRevision extends Error {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | typeof NO_STREAM,
  ) {
    super(`Stream ${stream} is at ${String(actual)}, expected ${String(expected)}`);
    this.name = 'WrongExpectedRevision';
  }
}

/** The position before the first event of the global log: less than every other position. */
export const START: Position = '';

/**
 * A stretch of the global log as a subscription hands it over: the events in it of the streams
 * subscribed to (possibly none), and the position the store has read up to. Storing `position` as
 * the consumer's checkpoint is safe: every matching event up to it is in this chunk or an earlier one.
 */
export interface LogChunk {
  events: RecordedEvent[];
  /** At or after the last event's position; moves on past events of other streams too. */
  position: Position;
}

export interface AllSubscriptionOptions {
  /**
   * Where to start (exclusive): the consumer's stored checkpoint. Called again on every
   * resubscription, so a dropped subscription resumes from what the consumer kept, not from memory.
   */
  from: () => Promise<Position>;
  /** Only events of streams whose names start with one of these are delivered. */
  streamPrefixes: string[];
  /** At most this many events in one chunk. */
  maxBatchSize: number;
  /** How often a store that cannot push looks for events written by other processes. */
  pollIntervalMs: number;
}

export interface AllSubscriptionConsumer {
  /**
   * One chunk at a time, in log order: the next waits for this promise. A rejection (like a dropped
   * connection) ends the subscription; it resubscribes from `from()` after a backoff.
   */
  handle(chunk: LogChunk): Promise<void>;
  /** Told of each failure before resubscribing; the subscription keeps going. */
  onError(error: unknown): void;
}

export interface AllSubscription {
  /** Resolves once no chunk is being handled and none will be. */
  stop(): Promise<void>;
}

export abstract class EventStore {
  /** Appends all events atomically, or none. Resolves only once the write is durable. */
  abstract appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /** The stream's events in order; [] when it does not exist. */
  abstract readStream(stream: string): Promise<RecordedEvent[]>;
  /** Up to maxCount events of the global log after `after` (exclusive), in order. */
  abstract readAll(after: Position, maxCount: number): Promise<RecordedEvent[]>;
  /**
   * Without prefixes: the global position of the last event in the store (START when empty), written
   * by any process. With prefixes: a position that a subscription to those prefixes reaches once it
   * has handed over every matching event stored so far (the last matching event's position, or any
   * later one its chunks are sure to reach): what a reader waits for to see every write made before.
   */
  abstract headPosition(streamPrefixes?: string[]): Promise<Position>;
  /** Called after each append made through this instance; writes of other processes are found by polling. */
  abstract onAppended(listener: (position: Position) => void): () => void;
  /**
   * Follows the global log from `options.from()`, handing the consumer chunks of matching events and
   * the position read up to, resubscribing after any failure. This default polls `readAll`, woken by
   * this instance's appends; a store that can push (EventStoreDB) overrides it.
   */
  subscribeToAll(options: AllSubscriptionOptions, consumer: AllSubscriptionConsumer): AllSubscription {
    return pollingSubscription({ readAll: (after, maxCount) => this.readAll(after, maxCount), wakeUps: (wake) => this.onAppended(wake) }, options, consumer);
  }
  abstract close(): Promise<void>;
}
