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
  WrongExpectedRevision,
} from '../storage/event-store.port';
import { Metrics } from './metrics';

/** An event store that times its appends and counts their events, delegating everything to the adapter it wraps. */
export class MeteredEventStore extends EventStore {
  constructor(
    private readonly store: EventStore,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  override async appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await this.store.appendToStream(stream, events, expected);
      this.metrics.observeAppend(events.length, 'ok', seconds());
      return result;
    } catch (error) {
      this.metrics.observeAppend(events.length, error instanceof WrongExpectedRevision ? 'conflict' : 'error', seconds());
      throw error;
    }
  }

  override readStream(stream: string): Promise<RecordedEvent[]> {
    return this.store.readStream(stream);
  }
  override readAll(after: Position, maxCount: number): Promise<RecordedEvent[]> {
    return this.store.readAll(after, maxCount);
  }
  override headPosition(streamPrefixes?: string[]): Promise<Position> {
    return this.store.headPosition(streamPrefixes);
  }
  override onAppended(listener: (position: Position) => void): () => void {
    return this.store.onAppended(listener);
  }
  // The adapter's own subscription: EventStoreDB pushes instead of polling.
  override subscribeToAll(options: AllSubscriptionOptions, consumer: AllSubscriptionConsumer): AllSubscription {
    return this.store.subscribeToAll(options, consumer);
  }
  override close(): Promise<void> {
    return this.store.close();
  }
}
