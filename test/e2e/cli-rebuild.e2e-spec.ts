import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runAccountCommand } from '../../src/accounts/application/run-account-command';
import { AccountCommand } from '../../src/accounts/domain/commands';
import { decide } from '../../src/accounts/domain/decide';
import { AccountEvent } from '../../src/accounts/domain/events';
import { fold } from '../../src/accounts/domain/evolve';
import { runCli } from '../../src/cli';
import { Services } from '../../src/composition-root';
import { Actor } from '../../src/kernel/tenant';
import { removeDir, startApp, tempDataDir } from '../support/app-harness';
import { freshFolds } from '../support/fresh-folds';
import { openServices } from '../support/services';
import { progressOf } from '../../src/storage/event-store.port';
import { queryStore, throwAwayReadModel } from '../support/stored-data';
import { cliEnv, openedLine, stateInSqlite } from '../support/test-storage';

jest.setTimeout(120_000);

// Few accounts with long histories: each new account costs a data key (a durable write of its own).
const ACCOUNTS = 100;
const EVENTS_PER_ACCOUNT = 100;
const actor: Actor = { tenant: { organization_id: 'default', environment: 'staging' }, api_key_id: 'key_seed', request_id: 'req_seed', correlation_id: 'req_seed' };

/**
 * 10,000+ events written through the composition root's repository, as the service writes them
 * (encrypted, chained, sealed), one account's history to an append: 10,000 HTTP requests would only make the test slow.
 */
async function seed(services: Services): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < ACCOUNTS; n++) {
    const id = services.ids.accountId();
    ids.push(id);
    const now = new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString().replace('.000Z', 'Z');
    const commands: AccountCommand[] = [
      { kind: 'CreateAccount', account_id: id, tenant: actor.tenant, attributes: { entity_type: 'person', person: { name: { first: `Seed${n}` } }, contact: { email: `seed${n}@rebuild.example` } }, now },
      ...Array.from({ length: EVENTS_PER_ACCOUNT - 2 }, (_, i): AccountCommand => ({ kind: 'UpdateAccount', attributes: { contact: { phone: `+1555${String(n).padStart(4, '0')}${i}00` } }, now })),
      { kind: 'ChangeStatus', status: n % 3 ? 'active' : 'suspended', reason: `seed reason ${n}`, now },
    ];
    const events: AccountEvent[] = [];
    for (const command of commands) events.push(...decide(command, fold(events)));
    await services.repository.append(await services.repository.load(id), events, actor);
  }
  // Some accounts end redacted: their rows must come back erased.
  for (const id of ids.filter((_, n) => n % 10 === 7)) {
    await runAccountCommand(services.repository, { accountId: id, actor, command: () => ({ kind: 'RedactAccount', now: '2026-02-01T00:00:00Z' }) });
    await services.cipher.shred(id);
  }
  return ids;
}

/** Every row of the read model, personal data opened: what the service answers from. */
async function readModelRows(dataDir: string) {
  const services = await openServices(dataDir, { access: 'read-only' });
  try {
    const rows = [];
    for (let after: string | null = null; ; ) {
      const ids = await services.readModel.ids(after, 500);
      if (ids.length === 0) break;
      const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : 1);
      for (const row of (await services.readModel.getMany(ids)).sort(byId)) rows.push({ account: await services.rowCodec.toAccount(row), revision: row.revision });
      after = ids.at(-1)!;
    }
    return { rows, checkpoint: await services.readModel.checkpoint() };
  } finally {
    await services.close();
  }
}

describe('CLI rebuild', () => {
  it('rebuilds the read model of a 10,000-event store after it was deleted: the same rows, and the service answers from them', async () => {
    const dataDir = tempDataDir();
    try {
      const services = await openServices(dataDir);
      const ids = await seed(services);
      expect(ids).toHaveLength(ACCOUNTS);
      await services.projection.catchUp();
      const head = await services.eventStore.headPosition();
      await services.close();
      expect(progressOf(head)).toBeGreaterThanOrEqual(10_000);
      const before = await readModelRows(dataDir);
      expect(before.rows).toHaveLength(ACCOUNTS);
      expect(before.checkpoint).toBe(head);

      // Gone: on SQLite the table itself (rebuild makes it anew), on PostgreSQL its rows (the schema is the migrations').
      await throwAwayReadModel(dataDir);
      if (stateInSqlite) await queryStore(dataDir, 'state', 'DROP TABLE accounts');

      const lines: string[] = [];
      const errors: string[] = [];
      let bar = '';
      const terminal = Object.assign(new Writable({ write: (chunk, _encoding, done) => ((bar += String(chunk)), done()) }), { isTTY: true, columns: 100 });
      const code = await runCli(['rebuild'], cliEnv(dataDir), { out: (line) => lines.push(line), err: (line) => errors.push(line), progress: terminal });
      expect(errors).toEqual([openedLine(dataDir, 'read-write')]);
      expect(code).toBe(0);
      // Positions number the events of the log, on SQLite and PostgreSQL alike.
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^Rebuilt the read model from ${progressOf(head)} events in \\d+\\.\\d\\d s: \\d+ events/s\\.$`))]);
      expect(bar).toContain('rebuild');
      expect(bar).toContain('100%');
      process.stdout.write(`      ${lines[0]}\n`);

      const after = await readModelRows(dataDir);
      expect(after.checkpoint).toBe(head);
      expect(after.rows).toEqual(before.rows);
      expect(after.rows.filter((r) => r.account.redacted_at !== null)).toHaveLength(10);

      // The whole store verifies, and the service answers from the rebuilt rows.
      const verified = await runCli(['verify'], cliEnv(dataDir), { out: (line) => lines.push(line), err: () => undefined });
      expect([verified, lines.at(-1)]).toEqual([0, `Checked ${progressOf(head)} events in ${ACCOUNTS} streams and ${ACCOUNTS} read-model rows: no problems.`]);
      const t = await startApp({ dataDir });
      try {
        const sample = [ids[0], ids[7], ids[50], ids[ACCOUNTS - 1]];
        const folds = await freshFolds(dataDir, sample);
        for (const id of sample) {
          const read = await t.get(id).expect(200);
          expect(read.body).toEqual(folds.get(id)!.body);
          expect(read.headers.etag).toBe(`"${folds.get(id)!.revision}"`);
        }
      } finally {
        await t.close();
      }
    } finally {
      removeDir(dataDir);
    }
  });

  it('refuses to run while a service applies the projection, and leaves its read model alone', async () => {
    const t = await startApp();
    try {
      const { id } = (await t.create({ entity_type: 'person', external_id: 'kept' }).expect(201)).body.data;
      const lines: string[] = [];
      expect(await runCli(['rebuild'], cliEnv(t.dataDir), (line) => lines.push(line))).toBe(1);
      expect(lines.at(-1)).toBe('error: another process is applying the projection (a running service holds its lease): stop it, then rebuild');
      const rows = await readModelRows(t.dataDir);
      expect(rows.rows.map((r) => r.account.id)).toEqual([id]);
      await t.get(id).expect(200);
    } finally {
      await t.close();
    }
    const lines: string[] = [];
    expect(await runCli(['rebuild'], cliEnv(t.dataDir), (line) => lines.push(line))).toBe(0);
    expect(lines.at(-1)).toMatch(/^Rebuilt the read model from \d+ events/);
    removeDir(t.dataDir);
  });

  it('refuses a DATA_DIR without an event store instead of creating one', async () => {
    const parent = tempDataDir();
    const nowhere = join(parent, 'missing');
    const lines: string[] = [];
    try {
      expect(await runCli(['rebuild'], { DATA_DIR: nowhere }, (line) => lines.push(line))).toBe(2);
      expect(lines[1]).toMatch(/^error: No store at .*events\.sqlite: nothing was created/);
      expect(existsSync(nowhere)).toBe(false);
    } finally {
      removeDir(parent);
    }
  });
});
