import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { StoreAccess } from '../store-access';
import type { WriterCall, WriterReply, WriterSetup } from './sqlite-writer.worker';

/** An error as it crossed from the writer thread: its name, message and own fields (an SqliteError's `code`). */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

export type ErrorRevival = (error: SerializedError) => Error | undefined;

/**
 * A SQLite file whose statements run on a thread of their own, in batches: every call that arrives
 * while the thread is busy is run in the next batch, one transaction, each call in a savepoint of its
 * own, so one failing call rolls back only itself and its caller alone gets the error. One commit,
 * one sync, per batch instead of per call (group commit); and the event loop never waits on the disk.
 * A call resolves once its batch has committed (synchronous = FULL: on disk).
 */
export class SqliteWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  /** Calls made since the last message to the thread: sent together, one message per turn of the event loop. */
  private outbox: WriterCall[] = [];
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  constructor(
    setup: WriterSetup,
    private readonly revive: ErrorRevival = () => undefined,
  ) {
    this.worker = workerOf(setup);
    // Only calls in flight keep the process alive: an idle writer must not hold a CLI or a test open.
    this.worker.unref();
    // One message per batch, holding its replies.
    this.worker.on('message', (replies: WriterReply[]) => {
      for (const reply of replies) this.settle(reply);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    void this.exited.then(() => this.fail(new Error(`The writer thread of ${setup.file} has stopped`)));
  }

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // setImmediate: after the I/O callbacks of this turn, so every request it served adds its calls to the same message.
      if (this.outbox.push({ id, op, args }) === 1) setImmediate(this.send);
    });
  }

  private readonly send = () => {
    if (this.outbox.length === 0 || this.failure) return;
    const calls = this.outbox;
    this.outbox = [];
    this.worker.postMessage(calls);
  };

  /** Finishes the calls already made, closes the file and ends the thread. */
  async close(): Promise<void> {
    if (!this.failure) {
      this.worker.ref();
      this.send();
      this.worker.postMessage({ close: true });
    }
    await this.exited;
  }

  private settle(reply: WriterReply) {
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) call.resolve(reply.value);
    else call.reject(this.revive(reply.error) ?? revived(reply.error));
  }

  private fail(error: Error) {
    this.failure ??= error;
    this.outbox = [];
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }
}

/** The error as the caller would have got it on this thread: same name, message and fields (`code` of an SqliteError). */
function revived({ name, message, fields }: SerializedError): Error {
  return Object.assign(new Error(message), { name }, fields);
}

// Built (dist, `npm start`) the worker is JavaScript beside this file. Run from source (ts-jest,
// ts-node) it is TypeScript: the thread first teaches its require to transpile TypeScript (as
// ts-node's transpile-only mode does: the sources were type-checked already), keeping what it
// transpiled in a cache keyed by the source's hash, as ts-jest does, so that a thread starts in
// tens of milliseconds rather than loading the compiler each time.
const FROM_SOURCE = extname(__filename) === '.ts';
const WORKER_FILE = join(__dirname, `sqlite-writer.worker${extname(__filename)}`);
const TRANSPILING_BOOTSTRAP = `
  const { createHash } = require('node:crypto');
  const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
  const { tmpdir } = require('node:os');
  const { join } = require('node:path');
  const { threadId } = require('node:worker_threads');
  const cache = join(tmpdir(), 'identity-accounts-transpiled');
  function transpile(source, file) {
    const ts = require(${JSON.stringify(FROM_SOURCE ? require.resolve('typescript') : '')});
    const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
    return ts.transpileModule(source, { compilerOptions, fileName: file }).outputText;
  }
  require.extensions['.ts'] = (module, file) => {
    const source = readFileSync(file, 'utf8');
    const cached = join(cache, createHash('sha256').update(file + '\\0' + source).digest('hex') + '.js');
    let code;
    try {
      code = readFileSync(cached, 'utf8');
    } catch {
      code = transpile(source, file);
      mkdirSync(cache, { recursive: true });
      const partial = cached + '.' + process.pid + '.' + threadId;
      writeFileSync(partial, code);
      renameSync(partial, cached);
    }
    module._compile(code, file);
  };
  require(${JSON.stringify(WORKER_FILE)});
`;
const workerOf = (setup: WriterSetup) =>
  FROM_SOURCE ? new Worker(TRANSPILING_BOOTSTRAP, { eval: true, workerData: setup }) : new Worker(WORKER_FILE, { workerData: setup });

/** For the stores' openers: a read-only open never creates a file, and says so before starting a thread. */
export const fileExists = (file: string, access: StoreAccess) => access === 'read-write' || existsSync(file);
