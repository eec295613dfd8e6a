import type { AllSubscription, AllSubscriptionConsumer, AllSubscriptionOptions, Position, RecordedEvent } from './event-store.port';
import { Alarm, DEFAULT_RETRY_DELAYS, retryDelayMs, RetryDelays, streamMatches } from './subscription-support';

/** What a store needs to be followed by polling: paged reads of its log, and word of new events. */
export interface PolledLog {
  readAll(after: Position, maxCount: number): Promise<RecordedEvent[]>;
  /** Calls `wake` when events may have been stored beyond `position`; returns how to stop. */
  wakeUps(wake: (position: Position) => void): () => void;
}

/**
 * A subscription for stores that cannot push: it reads pages of the log after its position, hands
 * each over as one chunk (its matching events, and the page's last position so the consumer's
 * checkpoint passes the others), and once at the end sleeps until woken or `pollIntervalMs` passes.
 */
export function pollingSubscription(
  log: PolledLog,
  options: AllSubscriptionOptions,
  consumer: AllSubscriptionConsumer,
  retryDelays: RetryDelays = DEFAULT_RETRY_DELAYS,
): AllSubscription {
  const newEvents = new Alarm();
  // Only stop() cuts a backoff short: new events must not turn a failing store into a busy loop.
  const stopping = new Alarm();
  let stopped = false;
  // null: (re)start from the consumer's checkpoint.
  let position: Position | null = null;
  const stopWakeUps = log.wakeUps((at) => {
    if (position === null || at > position) newEvents.wake();
  });

  async function run() {
    let failuresInARow = 0;
    while (!stopped) {
      try {
        position ??= await options.from();
        const page = await log.readAll(position, options.maxBatchSize);
        if (page.length === 0) {
          await newEvents.wait(options.pollIntervalMs);
          continue;
        }
        const chunk = { events: page.filter((event) => streamMatches(event.stream, options.streamPrefixes)), position: page.at(-1)!.position };
        if (stopped) return;
        await consumer.handle(chunk);
        position = chunk.position;
        failuresInARow = 0;
      } catch (error) {
        if (stopped) return;
        consumer.onError(error);
        position = null;
        await stopping.wait(retryDelayMs(++failuresInARow, retryDelays));
      }
    }
  }

  const running = run();
  return {
    async stop() {
      stopped = true;
      stopWakeUps();
      newEvents.wake();
      stopping.wake();
      await running;
    },
  };
}
