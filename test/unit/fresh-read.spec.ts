import { FreshRead } from '../../src/kernel/fresh-read';

/** A store value read by hand: each read is held open until the test lets it answer the value of that moment. */
function controlledStore() {
  let value = 0;
  const pending: Array<() => void> = [];
  let reads = 0;
  return {
    set: (next: number) => (value = next),
    get reads() {
      return reads;
    },
    read: () => {
      reads += 1;
      return new Promise<number>((resolve) => pending.push(() => resolve(value)));
    },
    /** Lets the oldest open read answer, then lets promise callbacks run. */
    async answer() {
      pending.shift()!();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
    get open() {
      return pending.length;
    },
  };
}

describe('FreshRead: one read shared by the callers of a moment, never one that started before a caller asked', () => {
  it('a caller arriving while a read is in flight gets the next read, which sees a change made before it asked', async () => {
    const store = controlledStore();
    const fresh = new FreshRead(store.read);
    const first = fresh.get();
    // A revocation lands after the first read started, then a request asks.
    store.set(1);
    const second = fresh.get();
    await store.answer();
    await expect(first).resolves.toBe(1); // the hand-held read answers the value of its moment
    expect(store.open).toBe(1); // the second caller's own read has started
    store.set(2);
    await store.answer();
    await expect(second).resolves.toBe(2);
  });

  it('callers arriving together share one read: two reads for any number of callers', async () => {
    const store = controlledStore();
    const fresh = new FreshRead(store.read);
    const answers = Array.from({ length: 50 }, () => fresh.get());
    expect(store.reads).toBe(1);
    await store.answer();
    expect(store.reads).toBe(2);
    await store.answer();
    const values = await Promise.all(answers);
    expect(values).toHaveLength(50);
    expect(store.reads).toBe(2);
    // Once nothing is in flight, the next caller starts a read of its own at once.
    void fresh.get();
    expect(store.reads).toBe(3);
    await store.answer();
  });

  it('a failed read fails its callers only; the next callers read again', async () => {
    let fail = true;
    const fresh = new FreshRead(() => (fail ? Promise.reject(new Error('connection lost')) : Promise.resolve(7)));
    const failed = fresh.get();
    const waiting = fresh.get();
    fail = false;
    await expect(failed).rejects.toThrow('connection lost');
    await expect(waiting).resolves.toBe(7);
    await expect(fresh.get()).resolves.toBe(7);
  });
});
