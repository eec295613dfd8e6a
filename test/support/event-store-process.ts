// An EventStore in a process of its own, for the contract's tests across processes. The child opens
// the store, says "ready", waits for "go" on stdin (so several start their work together), does its
// task and prints the outcome as one JSON line.
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ANY, EventStore, NO_STREAM, WrongExpectedRevision } from '../../src/storage/event-store.port';

/** How a child opens the store under test: `require(module)[factory](argument)`, resolving to an EventStore. */
export interface StoreOpener {
  module: string;
  factory: string;
  argument: string;
}

export type Task =
  /** Appends one event per round r, expecting the stream to hold exactly r events. */
  | { kind: 'race'; stream: string; rounds: number }
  /** Appends `appends` times (ANY), cycling through the streams. */
  | { kind: 'write'; streams: string[]; appends: number; eventsPerAppend: number };

export interface RaceRound {
  round: number;
  won: boolean;
  /** The error's name when it lost. */
  error?: string;
}

export type Outcome = RaceRound[] | { eventIds: string[] };

async function runTask(store: EventStore, task: Task): Promise<Outcome> {
  if (task.kind === 'race') {
    const rounds: RaceRound[] = [];
    for (let round = 0; round < task.rounds; round++) {
      const expected = round === 0 ? NO_STREAM : BigInt(round - 1);
      try {
        await store.appendToStream(task.stream, [{ id: randomUUID(), type: `round-${round}`, data: { pid: process.pid }, metadata: {} }], expected);
        rounds.push({ round, won: true });
      } catch (error) {
        rounds.push({ round, won: false, error: error instanceof WrongExpectedRevision ? error.name : String(error) });
      }
    }
    return rounds;
  }
  const eventIds: string[] = [];
  for (let i = 0; i < task.appends; i++) {
    const events = Array.from({ length: task.eventsPerAppend }, (_, n) => ({ id: randomUUID(), type: 'written', data: { pid: process.pid, i, n }, metadata: {} }));
    await store.appendToStream(task.streams[i % task.streams.length], events, ANY);
    eventIds.push(...events.map((e) => e.id));
  }
  return { eventIds };
}

async function child() {
  const { opener, task } = JSON.parse(process.argv[2]) as { opener: StoreOpener; task: Task };
  const store = (await require(opener.module)[opener.factory](opener.argument)) as EventStore;
  const lines = createInterface({ input: process.stdin });
  const go = once(lines, 'line');
  // The test ended without saying go: nothing to do.
  const abandoned = () => process.exit(0);
  lines.once('close', abandoned);
  process.stdout.write('ready\n');
  await go;
  lines.off('close', abandoned);
  const outcome = await runTask(store, task);
  lines.close();
  await store.close();
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

if (require.main === module) {
  child().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

/**
 * Starts one child per task and resolves once every one has opened its store. `go()` then lets them
 * all work at once and resolves with their outcomes, in the order of the tasks.
 */
export async function startStoreProcesses(opener: StoreOpener, tasks: Task[]): Promise<{ go: () => Promise<Outcome[]> }> {
  const children = tasks.map((task) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, JSON.stringify({ opener, task })], {
      cwd: join(__dirname, '../..'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
    return { child, output, exited: exitOf(child) };
  });
  const failure = (output: { stderr: string }, what: string) => new Error(`an event-store process ${what}:\n${output.stderr}`);
  const ready = Promise.all(
    children.map(
      ({ child, output, exited }) =>
        new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', () => output.stdout.startsWith('ready\n') && resolve());
          void exited.then(() => reject(failure(output, 'exited before it was ready')));
        }),
    ),
  );
  await ready.catch((error) => {
    for (const { child } of children) child.kill('SIGKILL');
    throw error;
  });
  return {
    go: async () => {
      for (const { child } of children) child.stdin!.write('go\n');
      return Promise.all(
        children.map(async ({ output, exited }) => {
          const code = await exited;
          if (code !== 0) throw failure(output, `exited with ${code}`);
          return JSON.parse(output.stdout.slice('ready\n'.length)) as Outcome;
        }),
      );
    },
  };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  // 'close' rather than 'exit': by then all of its output has been read.
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}
