// One writer of the two-process contract test, in its own process: opens the fixture's store with
// the opener module named in argv (its argument comes in the environment, so a connection string
// never shows in a process list), says "ready", and on "go" appends one event at the expected
// revision given in argv. It prints what happened as one JSON line.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { ANY, EventStore, ExpectedRevision, NO_STREAM, WrongExpectedRevision } from '../../src/storage/event-store.port';

export const OPENER_ARGUMENT_VARIABLE = 'EVENT_STORE_OPENER_ARGUMENT';

/** What an opener module exports: how a child process opens the same store as the test's fixture. */
export type OpenStore = (argument: string) => Promise<EventStore>;

export type ChildOutcome = { outcome: 'appended'; position: string } | { outcome: 'wrong_expected_revision'; actual: string } | { outcome: 'failed'; error: string };

const parseExpected = (text: string): ExpectedRevision => (text === NO_STREAM || text === ANY ? text : BigInt(text));

async function main() {
  const [openerModule, stream, expected] = process.argv.slice(2);
  const { openStore } = (await import(openerModule)) as { openStore: OpenStore };
  const store = await openStore(process.env[OPENER_ARGUMENT_VARIABLE] ?? '');
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  // Nothing more to read: an open stdin would keep this process alive.
  process.stdin.destroy();
  let result: ChildOutcome;
  try {
    const appended = await store.appendToStream(stream, [{ id: randomUUID(), type: 'raced', data: { pid: process.pid }, metadata: {} }], parseExpected(expected));
    result = { outcome: 'appended', position: appended.position };
  } catch (error) {
    result =
      error instanceof WrongExpectedRevision
        ? { outcome: 'wrong_expected_revision', actual: String(error.actual) }
        : { outcome: 'failed', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  await store.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) void main();
