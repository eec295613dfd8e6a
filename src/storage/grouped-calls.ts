/** One call waiting for its group: its input, and how to answer its caller. */
interface WaitingCall<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

export interface GroupedCallsOptions<I> {
  /** A group stops growing before its weight would pass this (a single call joins whatever its weight). */
  maxWeight: number;
  /** The weight of one call (1 by default): what maxWeight bounds, e.g. rows or statement parameters. */
  weight?: (input: I) => number;
}

/**
 * Group commit for a store reached over a connection: calls made while a group is being run wait
 * for the next, which runs them all in one round trip (one statement, or one transaction and one
 * commit). Calls made in the same tick as the first join it too. `run` answers each input of the
 * group in order, a value or an Error of that caller's own; should the group fail as a whole (a lost
 * connection, a constraint one input broke), each of its calls runs again alone, so that only the one
 * at fault fails and no caller gets another caller's result.
 */
export class GroupedCalls<I, O> {
  private waiting: WaitingCall<I, O>[] = [];
  private running = false;
  private readonly weight: (input: I) => number;

  constructor(
    private readonly run: (inputs: readonly I[]) => Promise<(O | Error)[]>,
    private readonly options: GroupedCallsOptions<I>,
  ) {
    this.weight = options.weight ?? (() => 1);
  }

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      await new Promise((resolve) => setImmediate(resolve));
      while (this.waiting.length > 0) {
        const group = this.takeGroup();
        try {
          this.answer(group, await this.run(group.map((call) => call.input)));
        } catch (error) {
          if (group.length === 1) group[0].reject(error);
          else await Promise.all(group.map((call) => this.run([call.input]).then((outputs) => this.answer([call], outputs), call.reject)));
        }
      }
    } finally {
      this.running = false;
    }
  }

  private answer(group: readonly WaitingCall<I, O>[], outputs: readonly (O | Error)[]): void {
    group.forEach((call, i) => {
      const output = outputs[i];
      if (output instanceof Error) call.reject(output);
      else call.resolve(output);
    });
  }

  /** The oldest calls, up to maxWeight (at least one, however heavy), taken off the queue. */
  private takeGroup(): WaitingCall<I, O>[] {
    let weight = 0;
    let count = 0;
    while (count < this.waiting.length) {
      const next = this.weight(this.waiting[count].input);
      if (count > 0 && weight + next > this.options.maxWeight) break;
      weight += next;
      count += 1;
    }
    return this.waiting.splice(0, count);
  }
}
