import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { storesUnlessNamed } from './test-storage';

// The real service in a process of its own, so a test can stop it, or kill -9 it, like an operator.

export const ROOT = join(__dirname, '../..');

/** `node` arguments that run the service: from the TypeScript sources (ts-node) or from a build. */
export type ServiceCommand = string[];
export const FROM_SOURCES: ServiceCommand = ['-r', 'ts-node/register/transpile-only', 'src/main.ts'];
export const fromBuild = (outDir: string): ServiceCommand => [join(outDir, 'main.js')];

/**
 * Compiles src/ as `npm run build` does, into `outDir` (which must lie inside the repository, so
 * that node resolves node_modules from it). Returns how long it took, in milliseconds.
 */
export function buildService(outDir: string): number {
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    // tsc reports compile errors on stdout.
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`the build failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
  return Date.now() - started;
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Everything it wrote to stdout and stderr so far: for failure messages. */
  output: () => string;
}

const running = new Set<ChildProcess>();

/**
 * Starts the service on a port of the system's choosing (PORT=0), resolved once it logs that it is
 * listening; rejects with its output if it exits first. `env` adds to or overrides its variables.
 */
export async function startService(dataDir: string, key: string, command: ServiceCommand = FROM_SOURCES, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, command, {
    cwd: ROOT,
    // No rate limit: these services are loaded by many concurrent clients with one key.
    env: { ...process.env, DATA_DIR: dataDir, ...storesUnlessNamed(dataDir, env), PORT: '0', ACCOUNTS_BOOTSTRAP_KEY: key, LOG_REQUESTS: 'false', NODE_ENV: 'test', RATE_LIMIT_PER_MINUTE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const listening = /^\{.*"message":"listening".*\}$/m.exec(output);
      if (listening) resolve(JSON.parse(listening[0]).port);
    });
    child.once('exit', (code, signal) => reject(new Error(`the service exited (${signal ?? code}) before listening:\n${output}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, output: () => output };
}

/** SIGTERM (a clean shutdown), then SIGKILL if it has not exited within 5 s. */
export async function stopService(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = once(service.child, 'exit');
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** kill -9: no shutdown hook runs, nothing is flushed; resolves once the process is gone. */
export async function killService(service: ServiceProcess): Promise<void> {
  await kill9(service.child);
}

/** For afterAll: kills every service this module started that is still running, whatever failed. */
export async function killAllServices(): Promise<void> {
  await Promise.all([...running].map(kill9));
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * One request on a connection of its own (no keep-alive pool): an error then always means this
 * request got no complete answer, never that a pooled socket went stale. Rejects when the
 * connection fails or the answer is cut off, which is what a kill -9 does to requests in flight.
 */
export function send(url: string, method: string, path: string, key: string, document?: unknown): Promise<HttpAnswer> {
  const payload = document === undefined ? undefined : Buffer.from(JSON.stringify(document), 'utf8');
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}${path}`,
      {
        method,
        agent: false,
        headers: { 'X-Api-Key': key, ...(payload && { 'Content-Type': 'application/json', 'Content-Length': payload.length }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('the answer was cut off')));
        res.on('end', () => {
          if (!res.complete) return reject(new Error('the answer was cut off'));
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : null });
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
