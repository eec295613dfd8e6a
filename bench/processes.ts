// The processes `npm run bench` measures: each runs on its own, so that its CPU, event loop and
// memory are its own, and the load generator (this process) is not inside it.
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..');

/** A port nobody listens on right now (the system's choice, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Started {
  name: string;
  pid: number;
  url: string;
  /** The peak resident set of the process so far (VmHWM), in MB; null where /proc has none. */
  peakRssMb(): number | null;
  stop(): Promise<void>;
}

/**
 * Starts `node args…` with exactly `env` (plus PATH and HOME: nothing of the caller's environment
 * leaks into what is measured), and resolves once `ready(url)` answers true. Its output is kept
 * (the last lines) to explain a failed start.
 */
export async function startNode(name: string, args: string[], env: Record<string, string>, ready: (url: string) => Promise<boolean>): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 30));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone) throw new Error(`${name} ended before it was ready:\n${output.join('\n')}`);
    if (Date.now() > deadline) {
      await stopChild(child, exited);
      throw new Error(`${name} was not ready after 60 s:\n${output.join('\n')}`);
    }
    if (await ready(url).catch(() => false)) break;
    await sleep(100);
  }
  return {
    name,
    pid: child.pid!,
    url,
    peakRssMb: () => peakRssMb(child.pid!),
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

export function peakRssMb(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs `node args…` to its end; its output, exit code and wall time. */
export function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
