import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { storesUnlessNamed } from './test-storage';

// The service as an operator starts it (`src/main.ts`, in a process of its own), for start-up tests.

const ROOT = join(__dirname, '..', '..');

export interface MainProcess {
  child: ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  /** The port from the `listening` log line, once it is printed. */
  port: () => Promise<number>;
  /** SIGTERM, then the exit code (null: it ended by the signal, as Nest does after closing). */
  stop: () => Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Only the variables given (with PATH, and DATA_DIR's stores) reach it: nothing from the environment of the test run. */
export function spawnMain(env: Record<string, string>): MainProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_REQUESTS: 'false', ...(env.DATA_DIR && storesUnlessNamed(env.DATA_DIR, env)), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  let ended = false;
  void exited.then(() => (ended = true));
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    port: async () => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const listening = stdout.split('\n').map(parseJson).find((line) => line?.message === 'listening');
        if (listening) return listening.port as number;
        if (ended || Date.now() > deadline) throw new Error(`the service did not start: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Kills whatever a test left running; call from afterAll. */
export function killLeftovers() {
  for (const child of running) child.kill('SIGKILL');
}

function parseJson(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}
