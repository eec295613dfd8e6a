// The event store port. Its semantics follow EventStoreDB's client so both adapters behave alike:
// revisions are bigint and start at 0n, NO_STREAM means "this stream must not exist yet".

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

export abstract class EventStore {
  /** Appends all events atomically, or none. Resolves only once the write is durable. */
  abstract appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /** The stream's events in order; [] when it does not exist. */
  abstract readStream(stream: string): Promise<RecordedEvent[]>;
  /** Up to maxCount events of the global log after `after` (exclusive), in order. */
  abstract readAll(after: Position, maxCount: number): Promise<RecordedEvent[]>;
  /** The global position of the last event in the store (START when empty), written by any process. */
  abstract headPosition(): Promise<Position>;
  /** Called after each append made through this instance; writes of other processes are found by polling. */
  abstract onAppended(listener: (position: Position) => void): () => void;
  abstract close(): Promise<void>;
}
