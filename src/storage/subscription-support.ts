// What every adapter's subscription shares: the prefix filter and the pause between resubscriptions.

/** Whether a stream's name starts with one of the prefixes. */
export const streamMatches = (stream: string, prefixes: readonly string[]): boolean => prefixes.some((prefix) => stream.startsWith(prefix));

export interface RetryDelays {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY_DELAYS: RetryDelays = { firstMs: 100, maxMs: 5_000 };

/** Doubling after each failure in a row, capped: a server that is down is not hammered. */
export const retryDelayMs = (failuresInARow: number, delays: RetryDelays = DEFAULT_RETRY_DELAYS): number =>
  Math.min(delays.maxMs, delays.firstMs * 2 ** Math.max(0, failuresInARow - 1));

/**
 * Something a loop can wait on: `wait(ms)` resolves after ms, or at once when `wake()` is called
 * (also if it was called since the last wait, so a wake-up between two waits is not lost).
 */
export class Alarm {
  private rung = false;
  private ring: (() => void) | null = null;

  wake(): void {
    this.rung = true;
    this.ring?.();
  }

  async wait(ms: number): Promise<void> {
    if (!this.rung) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.ring = done;
      });
      this.ring = null;
    }
    this.rung = false;
  }
}
