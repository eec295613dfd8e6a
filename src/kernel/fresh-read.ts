/**
 * One read of a store value shared by every caller of the moment, where each caller still needs a
 * read that started after it asked: a revocation, or a write acknowledged before a request arrived,
 * must be seen by that request. So callers arriving while a read is in flight do not take its answer
 * (it may have started before them); they share the next read, which starts as soon as that one
 * settles. At most two reads are outstanding however many callers wait: under load, one round trip
 * serves a crowd instead of one each.
 */
export class FreshRead<T> {
  private inFlight: Promise<T> | null = null;
  private next: Promise<T> | null = null;

  constructor(private readonly read: () => Promise<T>) {}

  /** The value as read by a read that started no earlier than this call. */
  get(): Promise<T> {
    if (!this.inFlight) return this.start();
    this.next ??= this.inFlight.then(settled, settled).then(() => {
      this.next = null;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<T> {
    const read = this.read();
    this.inFlight = read;
    const done = () => {
      if (this.inFlight === read) this.inFlight = null;
    };
    read.then(done, done);
    return read;
  }
}

const settled = () => undefined;
