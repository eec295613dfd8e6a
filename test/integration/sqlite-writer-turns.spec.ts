import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { NO_STREAM } from '../../src/storage/event-store.port';
import { SqliteEventStore } from '../../src/storage/sqlite/sqlite-event-store';
import { removeDir, tempDataDir } from '../support/app-harness';

// The writer thread answers a whole batch in one message. Its callers then go on to answer their
// requests: all of them in one turn would hold every timer and every other request of the process.

describe('SQLite writer thread: the answers of one batch', () => {
  const dir = tempDataDir();
  let store: SqliteEventStore;
  beforeAll(() => {
    store = new SqliteEventStore(join(dir, 'events.sqlite'));
  });
  afterAll(async () => {
    await store.close();
    removeDir(dir);
  });

  it('reach their callers over several turns of the event loop, each caller its own, and the event loop turns in between', async () => {
    const event = () => ({ id: randomUUID(), type: 'test.happened', data: {}, metadata: {} });
    const turnsSeen: number[] = [];
    let turn = 0;
    let counting = true;
    const countTurns = () => {
      turn += 1;
      if (counting) setImmediate(countTurns);
    };
    const appends = Array.from({ length: 40 }, (_, n) =>
      store.appendToStream(`turns-${n}`, [event()], NO_STREAM).then((result) => {
        if (turnsSeen.length === 0) setImmediate(countTurns);
        turnsSeen.push(turn);
        return result;
      }),
    );
    const results = await Promise.all(appends);
    counting = false;
    // Each its own answer: the first revision of its own stream, at a position of its own.
    expect(results.every((result) => result.nextExpectedRevision === 0n)).toBe(true);
    expect(new Set(results.map((result) => result.position)).size).toBe(40);
    // Not all in the turn the first one was answered in.
    expect(turnsSeen.filter((seen) => seen === 0).length).toBeLessThan(40);
    expect(Math.max(...turnsSeen)).toBeGreaterThan(0);
  });
});
