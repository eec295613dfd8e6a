import { EventEmitter } from 'node:events';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  jsonEvent,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type ReadPosition,
} from '@eventstore/db-client';
import {
  AllSubscription,
  AllSubscriptionConsumer,
  AllSubscriptionOptions,
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  Position,
  RecordedEvent,
  START,
} from '../event-store.port';
import { DEFAULT_RETRY_DELAYS, RetryDelays, streamMatches } from '../subscription-support';
import {
  decodePosition,
  describeEndpoint,
  encodePosition,
  isLogEvent,
  refusedAppendError,
  toAppendExpectedRevision,
  toRecordedEvent,
  toWrongExpectedRevision,
} from './eventstoredb-mapping';
import { EventStoreDbAllSubscription } from './eventstoredb-subscription';

/** The calls the adapter makes (unit tests hand in a fake with the client's semantics). */
export type EventStoreDbCalls = Pick<EventStoreDBClient, 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'>;

export interface EventStoreDbOptions {
  /** Pauses between resubscriptions after a drop. */
  retryDelays?: RetryDelays;
}

/** headPosition reads $all backwards a few events first (the head is usually among them), then more at a time... */
const HEAD_FIRST_PAGE = 8;
const HEAD_MAX_PAGE = 512;
/**
 * ...and gives up after this many without a match, answering the oldest one it read: every matching
 * event is older, and a subscription's checkpoints (every 32 events read) are sure to pass it.
 */
const HEAD_SCAN_LIMIT = 4096;

/**
 * The event store on EventStoreDB (@eventstore/db-client 6): one stream per aggregate, appends with
 * the expected revision (the caller's event ids make a retried append idempotent on the server),
 * the global log from $all, and a catch-up subscription to $all filtered on the server.
 */
export class EventStoreDbEventStore extends EventStore {
  private readonly appended = new EventEmitter();
  private readonly subscriptions = new Set<AllSubscription>();

  constructor(
    private readonly client: EventStoreDbCalls,
    private readonly options: EventStoreDbOptions = {},
  ) {
    super();
  }

  async appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    const proposed = events.map(({ id, type, data, metadata }) => jsonEvent({ id, type, data, metadata }));
    let result;
    try {
      result = await this.client.appendToStream(stream, proposed, { expectedRevision: toAppendExpectedRevision(expected) });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) throw toWrongExpectedRevision(error, stream, expected);
      throw error;
    }
    if (!result.success) throw refusedAppendError(result, stream, expected);
    // An append the server recognises as a retry (same event ids) may come back without a position.
    const position = result.position ? encodePosition(result.position) : await this.lastPositionOf(stream);
    this.appended.emit('appended', position);
    return { nextExpectedRevision: result.nextExpectedRevision, position };
  }

  async readStream(stream: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(stream)) events.push(toRecordedEvent(resolved));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async readAll(after: Position, maxCount: number): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    let cursor = after;
    while (events.length < maxCount) {
      // A read of $all from a position includes the event at it: one more, and skip it. At least a
      // few dozen at a time, so a stretch of system events costs few round trips.
      let lastRead: Position | null = null;
      for await (const resolved of this.readAllPage(decodePosition(cursor), 'forwards', Math.max(maxCount - events.length + 1, 64))) {
        const position = positionOf(resolved);
        if (position <= cursor) continue;
        lastRead = position;
        if (isLogEvent(resolved) && events.length < maxCount) events.push(toRecordedEvent(resolved));
      }
      if (lastRead === null) break;
      cursor = lastRead;
    }
    return events;
  }

  async headPosition(streamPrefixes?: string[]): Promise<Position> {
    const counts = (resolved: AllStreamResolvedEvent) =>
      isLogEvent(resolved) && (!streamPrefixes || streamMatches(resolved.event!.streamId, streamPrefixes));
    let from: ReadPosition = END;
    let olderThan: Position | null = null;
    for (let read = 0, page = HEAD_FIRST_PAGE; read < HEAD_SCAN_LIMIT; page = Math.min(page * 4, HEAD_MAX_PAGE)) {
      let found: Position | null = null;
      let oldest: Position | null = null;
      for await (const resolved of this.readAllPage(from, 'backwards', Math.min(page, HEAD_SCAN_LIMIT - read + (olderThan === null ? 0 : 1)))) {
        const position = positionOf(resolved);
        // Reading backwards from a position includes the event at it, already seen.
        if (olderThan !== null && position >= olderThan) continue;
        read += 1;
        oldest = position;
        if (found === null && counts(resolved)) found = position;
      }
      if (found !== null) return found;
      if (oldest === null) return START;
      olderThan = oldest;
      from = decodePosition(oldest);
    }
    return olderThan ?? START;
  }

  onAppended(listener: (position: Position) => void): () => void {
    this.appended.on('appended', listener);
    return () => this.appended.off('appended', listener);
  }

  override subscribeToAll(options: AllSubscriptionOptions, consumer: AllSubscriptionConsumer): AllSubscription {
    const subscription = new EventStoreDbAllSubscription(this.client, options, consumer, this.options.retryDelays ?? DEFAULT_RETRY_DELAYS);
    this.subscriptions.add(subscription);
    return {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  /** Answers once the server does: a read of one event of $all. */
  async ping(): Promise<void> {
    for await (const _ of this.readAllPage(END, 'backwards', 1));
  }

  async close(): Promise<void> {
    // Subscriptions first: left running, they would resubscribe through a disposed client.
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
    this.appended.removeAllListeners();
    await this.client.dispose();
  }

  private readAllPage(fromPosition: ReadPosition, direction: 'forwards' | 'backwards', maxCount: number) {
    return this.client.readAll({ fromPosition, direction: direction === 'backwards' ? BACKWARDS : 'forwards', maxCount, resolveLinkTos: false });
  }

  private async lastPositionOf(stream: string): Promise<Position> {
    for await (const resolved of this.client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
      return toRecordedEvent(resolved).position;
    }
    throw new Error(`The stream ${stream} has no events after an append to it`);
  }
}

const positionOf = (resolved: AllStreamResolvedEvent): Position => {
  const position = resolved.event?.position ?? resolved.link?.position;
  if (!position) throw new Error('EventStoreDB returned an event of $all without its position');
  return encodePosition(position);
};

/** EventStoreDB could not be reached or used at start-up: one line, naming the variable and the hosts, never a password. */
export class EventStoreDbUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventStoreDbUnavailable';
  }
}

/**
 * Opens the EventStoreDB event store of EVENTSTORE_CONNECTION_STRING (e.g.
 * `esdb://localhost:2113?tls=false`) and fails fast: unless the server answers a read within
 * `timeoutMs`, the client is disposed and EventStoreDbUnavailable says so in one line.
 */
export async function openEventStoreDbEventStore(connectionString: string, options: EventStoreDbOptions & { timeoutMs?: number } = {}): Promise<EventStoreDbEventStore> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  let client: EventStoreDBClient;
  try {
    client = EventStoreDBClient.connectionString(connectionString);
  } catch {
    // The client's parse error quotes the whole string, password included: not passed on.
    throw new EventStoreDbUnavailable('EVENTSTORE_CONNECTION_STRING is not an EventStoreDB connection string (like esdb://localhost:2113?tls=false)');
  }
  const store = new EventStoreDbEventStore(client, options);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.ping(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (error) {
    await client.dispose().catch(() => undefined);
    throw new EventStoreDbUnavailable(`EventStoreDB at EVENTSTORE_CONNECTION_STRING (${describeEndpoint(connectionString)}) cannot be used: ${reasonOf(error)}`);
  } finally {
    clearTimeout(timer);
  }
  return store;
}

/** The kind of failure, without the client's message (which may quote the connection string). */
function reasonOf(error: unknown): string {
  if (error instanceof Error && 'type' in error && typeof error.type === 'string') return error.type;
  if (error instanceof Error && error.message.startsWith('no answer within')) return error.message;
  return error instanceof Error ? error.name : 'unknown error';
}
