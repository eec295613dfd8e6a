import { streamNameFilter, type AllStreamResolvedEvent, type AllStreamSubscription, type EventStoreDBClient, type Position as EsdbPosition } from '@eventstore/db-client';
import type { AllSubscription, AllSubscriptionConsumer, AllSubscriptionOptions, LogChunk, Position, RecordedEvent } from '../event-store.port';
import { Alarm, DEFAULT_RETRY_DELAYS, retryDelayMs, RetryDelays, streamMatches } from '../subscription-support';
import { decodePosition, encodePosition, toRecordedEvent } from './eventstoredb-mapping';

/** The part of the client a subscription uses (a test hands in the client's own Subscription over a fake gRPC stream). */
export type SubscribingClient = Pick<EventStoreDBClient, 'subscribeToAll'>;

/**
 * A catch-up subscription to $all, filtered on the server by stream-name prefix. Filtered-out
 * events are never sent, so the server's checkpoints (`checkpointReached`, every 32 events it has
 * read) move the consumer's position past them. Whenever the subscription drops or the consumer
 * fails, it waits (100 ms, doubling to 5 s) and subscribes again from the consumer's stored position.
 */
export class EventStoreDbAllSubscription implements AllSubscription {
  private stopped = false;
  private attempt: SubscriptionAttempt | null = null;
  private readonly stopping = new Alarm();
  private readonly running: Promise<void>;

  constructor(
    private readonly client: SubscribingClient,
    private readonly options: AllSubscriptionOptions,
    private readonly consumer: AllSubscriptionConsumer,
    private readonly retryDelays: RetryDelays = DEFAULT_RETRY_DELAYS,
  ) {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.wake();
    await this.attempt?.stop();
    await this.running;
  }

  private async run(): Promise<void> {
    let failuresInARow = 0;
    while (!this.stopped) {
      try {
        const from = await this.options.from();
        if (this.stopped) return;
        this.attempt = new SubscriptionAttempt(this.client, from, this.options, this.consumer, () => (failuresInARow = 0));
        await this.attempt.finished;
      } catch (error) {
        if (this.stopped) return;
        this.consumer.onError(error);
        await this.stopping.wait(retryDelayMs(++failuresInARow, this.retryDelays));
      } finally {
        this.attempt = null;
      }
    }
  }
}

type Item = { kind: 'event'; event: RecordedEvent } | { kind: 'checkpoint'; position: Position };

/** The server ended a subscription that nobody stopped. */
export class SubscriptionEnded extends Error {
  constructor() {
    super('EventStoreDB ended the subscription to $all');
    this.name = 'SubscriptionEnded';
  }
}

/**
 * One subscription from one position, until it fails or is stopped. Events and checkpoints go
 * through one queue in the order the server sent them, and the consumer takes them from it in
 * chunks: a checkpoint is never stored ahead of an event sent before it.
 */
class SubscriptionAttempt {
  readonly finished: Promise<void>;
  private readonly subscription: AllStreamSubscription;
  private readonly queue: Item[] = [];
  private readonly arrived = new Alarm();
  private drainWaiters: Array<() => void> = [];
  private done = false;
  private failure: unknown = null;
  /** The position of the last chunk handed over: later chunks must go past it. */
  private handedUpTo: Position;
  // Beyond this many queued items the subscription is paused until the consumer catches up.
  private readonly highWater: number;

  constructor(
    client: SubscribingClient,
    from: Position,
    private readonly options: AllSubscriptionOptions,
    private readonly consumer: AllSubscriptionConsumer,
    private readonly onProgress: () => void,
  ) {
    this.handedUpTo = from;
    this.highWater = Math.max(2 * options.maxBatchSize, 32);
    this.subscription = client.subscribeToAll({
      fromPosition: decodePosition(from),
      filter: streamNameFilter({
        prefixes: options.streamPrefixes,
        checkpointInterval: 1,
        checkpointReached: (_subscription, position) => this.onCheckpoint(position),
      }),
    });
    this.subscription.on('data', (resolved: AllStreamResolvedEvent) => this.onEvent(resolved));
    this.subscription.on('error', (error: Error) => this.fail(error));
    this.subscription.on('end', () => this.fail(new SubscriptionEnded()));
    this.finished = this.consume();
  }

  async stop(): Promise<void> {
    this.end();
    await this.finished.catch(() => undefined);
  }

  private onEvent(resolved: AllStreamResolvedEvent): void {
    if (this.done) return;
    try {
      // The server filters already; a stream it should not have sent is passed by all the same.
      if (resolved.event && streamMatches(resolved.event.streamId, this.options.streamPrefixes)) {
        this.queue.push({ kind: 'event', event: toRecordedEvent(resolved) });
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.queue.length >= this.highWater) this.subscription.pause();
    if (this.subscription.readableLength === 0) this.releaseDrainWaiters();
    this.arrived.wake();
  }

  /**
   * The client awaits this before it reads on, but events it sent before may still sit in the
   * stream's buffer: the checkpoint joins the queue only once they have all reached it.
   */
  private async onCheckpoint(position: EsdbPosition): Promise<void> {
    if (this.subscription.readableLength > 0 && !this.done) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    if (this.done) return;
    this.queue.push({ kind: 'checkpoint', position: encodePosition(position) });
    this.arrived.wake();
  }

  private async consume(): Promise<void> {
    while (!this.done) {
      const chunk = this.takeChunk();
      if (this.queue.length < this.highWater / 2 && this.subscription.isPaused()) this.subscription.resume();
      if (!chunk) {
        await this.arrived.wait(60_000);
        continue;
      }
      try {
        await this.consumer.handle(chunk);
      } catch (error) {
        this.fail(error);
        break;
      }
      this.onProgress();
    }
    if (this.failure !== null) throw this.failure;
  }

  /**
   * Up to maxBatchSize events from the head of the queue, with the checkpoints among and after them:
   * the chunk's position is the furthest of them. Nothing when that would not move past the last
   * chunk (a server may report a checkpoint behind an event it has already sent).
   */
  private takeChunk(): LogChunk | null {
    const events: RecordedEvent[] = [];
    let position = this.handedUpTo;
    while (this.queue.length > 0) {
      const item = this.queue[0];
      if (item.kind === 'event') {
        if (events.length === this.options.maxBatchSize) break;
        if (item.event.position > this.handedUpTo) events.push(item.event);
        if (item.event.position > position) position = item.event.position;
      } else if (item.position > position) {
        position = item.position;
      }
      this.queue.shift();
    }
    if (position <= this.handedUpTo) return null;
    this.handedUpTo = position;
    return { events, position };
  }

  private fail(error: unknown): void {
    if (this.done) return;
    this.failure = error;
    this.end();
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    this.releaseDrainWaiters();
    this.arrived.wake();
    // Cancels the gRPC call; the client keeps a cancellation to itself.
    this.subscription.unsubscribe().catch(() => undefined);
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const release of waiters) release();
  }
}
