// A process that takes a read model's projection lease and holds it until it is killed: how the
// contract shows that a dead holder's lease passes on. It prints "held" (or "busy": another holds it).
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { AccountReadModel } from '../../src/accounts/projection/account-read-model.port';
import type { StoreOpener } from './event-store-process';

async function child() {
  const opener = JSON.parse(process.argv[2]) as StoreOpener;
  const readModel = (await require(opener.module)[opener.factory](opener.argument)) as AccountReadModel;
  const lease = await readModel.tryAcquireProjectionLease();
  process.stdout.write(lease ? 'held\n' : 'busy\n');
  // Held until killed: the test kills it with SIGKILL, so nothing here ever releases it.
  setInterval(() => undefined, 60_000);
}

if (require.main === module) {
  child().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

export interface LeaseHolder {
  child: ChildProcess;
  /** kill -9; resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Starts a process that holds the projection lease of the read model `opener` opens; rejects if it cannot take it. */
export async function holdLeaseInChild(opener: StoreOpener): Promise<LeaseHolder> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, JSON.stringify(opener)], {
    cwd: join(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const answer = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = /^(held|busy)$/m.exec(output);
      if (line) resolve(line[1]);
    });
    child.once('exit', (code, signal) => reject(new Error(`the lease holder exited (${signal ?? code}) before taking the lease:\n${output}`)));
  });
  if (answer !== 'held') {
    await kill();
    throw new Error('the lease holder could not take the lease: another held it');
  }
  return { child, kill };
}
