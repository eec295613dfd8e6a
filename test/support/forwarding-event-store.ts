import { AppendResult, EventStore, EventToAppend, ExpectedRevision, Position, RecordedEvent } from '../../src/storage/event-store.port';

/** An event store that hands every call to `inner`: a test overrides only the calls it means to change. */
export class ForwardingEventStore extends EventStore {
  constructor(protected readonly inner: EventStore) {
    super();
  }
  override appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    return this.inner.appendToStream(stream, events, expected);
  }
  override readStream(stream: string): Promise<RecordedEvent[]> {
    return this.inner.readStream(stream);
  }
  override readAll(after: Position, maxCount: number): Promise<RecordedEvent[]> {
    return this.inner.readAll(after, maxCount);
  }
  override headPosition(prefixes?: string[]): Promise<Position> {
    return this.inner.headPosition(prefixes);
  }
  override onAppended(listener: (position: Position) => void): () => void {
    return this.inner.onAppended(listener);
  }
  override close(): Promise<void> {
    return this.inner.close();
  }
}
