import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { Pool } from 'pg';
import { runCli } from '../../src/cli';
import { loadConfig } from '../../src/config/app-config';
import { DataKeyStore, WrappedDataKey } from '../../src/crypto/data-key-store.port';
import { dataKeyWrappingKey, tryUnwrapDataKey, wrapDataKey } from '../../src/crypto/data-key-wrapping';
import { DEPLOYMENT_KEY_PURPOSES, tryUnwrapDeploymentKey } from '../../src/crypto/deployment-keys';
import { MASTER_KEY_FILE, parseMasterKey } from '../../src/crypto/master-key';
import { openStorage } from '../../src/storage/open-storage';
import { KEYS_FILE } from '../../src/storage/sqlite/sqlite-storage';
import { ACCOUNTS, removeDir, startApp, TestApp, tempDataDir } from '../support/app-harness';
import { describePostgres } from '../support/postgres';

jest.setTimeout(180_000);

// `cli keys rotate-master` on a stopped service's data, as an operator runs it, on SQLite (the key
// in DATA_DIR/master.key, which the command replaces) and on PostgreSQL (the key in
// ACCOUNTS_MASTER_KEY, which the operator changes).

const ROOT = join(__dirname, '..', '..');
const PERSON = { first: 'Ottoline', email: 'ottoline.marchbanks@rotation.example', reason: 'flagged by analyst Peregrine Ashdown' };

/** Where a test's data lives, and how the service is configured on it. */
interface Setup {
  dataDir: string;
  /** The configuration the data was written with. */
  env: Record<string, string>;
  /** The configuration to start with once the master key is `newKey`: the key file (replaced) or ACCOUNTS_MASTER_KEY. */
  envWith(newKey: string): Record<string, string>;
  /** The opening line the CLI prints. */
  opened: string;
  /** Data keys put straight into the store: wrapping thousands through the service would only make the test slow. */
  insertKeys(keys: WrappedDataKey[]): Promise<void>;
  dispose(): Promise<void>;
}

function sqliteSetup(): Setup {
  const dataDir = tempDataDir();
  return {
    dataDir,
    // SQLite whichever stores the jest project runs the e2e suites on: this file tests both itself.
    env: { DATA_DIR: dataDir, EVENT_STORE: 'sqlite', READ_MODEL: 'sqlite' },
    envWith: () => ({ DATA_DIR: dataDir, EVENT_STORE: 'sqlite', READ_MODEL: 'sqlite' }),
    opened: `DATA_DIR=${dataDir} (read-write)`,
    insertKeys: async (keys) => {
      const db = new Database(join(dataDir, KEYS_FILE));
      const insert = db.prepare('INSERT INTO data_keys (account_id, wrapped_key) VALUES (?, ?)');
      db.transaction(() => keys.forEach((k) => insert.run(k.accountId, k.wrappedKey)))();
      db.close();
    },
    dispose: async () => removeDir(dataDir),
  };
}

function postgresSetup(url: string): Setup {
  const dataDir = tempDataDir();
  const env = { DATA_DIR: dataDir, EVENT_STORE: 'postgres', READ_MODEL: 'postgres', DATABASE_URL: url, ACCOUNTS_MASTER_KEY: randomBytes(32).toString('hex') };
  return {
    dataDir,
    env,
    envWith: (newKey) => ({ ...env, ACCOUNTS_MASTER_KEY: newKey }),
    opened: `DATA_DIR=${dataDir}, DATABASE_URL=${url} (read-write)`,
    insertKeys: async (keys) => {
      const pool = new Pool({ connectionString: url, max: 1 });
      await pool.query('INSERT INTO data_keys (account_id, wrapped_key) SELECT * FROM unnest($1::text[], $2::bytea[])', [
        keys.map((k) => k.accountId),
        keys.map((k) => k.wrappedKey),
      ]);
      await pool.end();
    },
    dispose: async () => removeDir(dataDir),
  };
}

interface Run {
  code: number;
  lines: string[];
  out: string;
  err: string;
  progress: string;
}

async function cli(env: Record<string, string>, args: string[], options: { tty?: boolean } = {}): Promise<Run> {
  const lines: string[] = [];
  const errors: string[] = [];
  let progress = '';
  const terminal = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        progress += String(chunk);
        done();
      },
    }),
    { isTTY: true, columns: 100 },
  );
  const code = await runCli(args, env, { out: (line) => lines.push(line), err: (line) => errors.push(line), ...(options.tty ? { progress: terminal } : {}) });
  return { code, lines, out: lines.join('\n'), err: errors.join('\n'), progress };
}

/** The CLI in a process of its own, as `node dist/cli.js` runs. */
function spawnCli(env: Record<string, string>, args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'cli.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: 'ignore',
  });
  return { child, exited: new Promise((resolve) => child.once('close', resolve)) };
}

/** Every data key, and the deployment keys, as stored. */
async function storedKeys(env: Record<string, string>) {
  const storage = await openStorage(loadConfig(env), 'read-write', ['dataKeys']);
  try {
    const keys: WrappedDataKey[] = [];
    for (let page = await storage.dataKeys.listWrapped('', 1000); page.length; page = await storage.dataKeys.listWrapped(page.at(-1)!.accountId, 1000)) keys.push(...page);
    const deployment = await Promise.all(DEPLOYMENT_KEY_PURPOSES.map(async (purpose) => ({ purpose, wrapped: (await storage.dataKeys.deploymentKey(purpose))! })));
    return { keys, deployment };
  } finally {
    await storage.close();
  }
}

const opensWith = (masterKey: string, key: WrappedDataKey) => tryUnwrapDataKey(dataKeyWrappingKey(Buffer.from(masterKey, 'hex')), key.accountId, key.wrappedKey) !== null;

const changeStatus = (t: TestApp, id: string, status: string, reason?: string) =>
  t.http().post(`${ACCOUNTS}/${id}/status`).set('X-Api-Key', t.key)
    .send({ data: { type: 'account-status-change', attributes: { status, ...(reason ? { reason } : {}) } } }).expect(200);

/** Accounts as the service leaves them: with personal data, an external_id each, one of them redacted. */
async function seedAccounts(setup: Setup) {
  const t = await startApp({ dataDir: setup.dataDir, env: setup.env });
  try {
    const a = (await t.create({ external_id: 'rot-a', entity_type: 'person', person: { name: { first: PERSON.first } }, contact: { email: PERSON.email } }).expect(201)).body.data.id as string;
    await changeStatus(t, a, 'suspended', PERSON.reason);
    await t.patch(a, { contact: { phone: '+15550002222' } }).expect(200);
    const b = (await t.create({ external_id: 'rot-b', entity_type: 'business', business: { legal_name: 'Ashdown & Marchbanks Ltd' } }).expect(201)).body.data.id as string;
    const c = (await t.create({ external_id: 'rot-c', entity_type: 'person', contact: { email: 'c@rotation.example' } }).expect(201)).body.data.id as string;
    await t.http().post(`${ACCOUNTS}/${c}/redact`).set('X-Api-Key', t.key).expect(200);
    const ids = { a, b, c };
    const bodies = Object.fromEntries(await Promise.all(Object.entries(ids).map(async ([name, id]) => [name, (await t.get(id).expect(200)).body]))) as Record<keyof typeof ids, unknown>;
    return { ids, bodies, key: t.key };
  } finally {
    await t.close();
  }
}

/** The master key the data was written with, as 64 hex characters. */
const configuredKey = (setup: Setup) => setup.env.ACCOUNTS_MASTER_KEY ?? readFileSync(join(setup.dataDir, MASTER_KEY_FILE), 'utf8').trim();

const RE_WRAPPED = /^Re-wrapped (\d+) data keys? under the new master key(?: \((\d+) already were\))?\. The deployment keys \(audit seals, external-id names\) were re-wrapped too, unchanged\.$/;

/** A setup of its own for each test of the block. */
function eachSetup(makeSetup: () => Setup): () => Setup {
  let setup: Setup | undefined;
  beforeEach(() => (setup = makeSetup()));
  afterEach(() => setup?.dispose());
  return () => setup!;
}

function wholeRotation(name: string, makeSetup: () => Setup) {
  const current = eachSetup(makeSetup);
  it(`${name}: after the rotation the service starts with the new key only, reads every account as before, verifies every seal and keeps every external_id taken`, async () => {
    const setup = current();
    const { ids, bodies, key } = await seedAccounts(setup);
    const oldKey = configuredKey(setup);
    const newKeyFile = join(setup.dataDir, '..', `${setup.dataDir.split('/').at(-1)}-new.key`);
    try {
      const run = await cli(setup.env, ['keys', 'rotate-master', '--new-key-file', newKeyFile, '--generate'], { tty: true });
      expect(run.code).toBe(0);
      expect(run.err).toBe(setup.opened);
      // The new key: in the file named, owner-only; printed nowhere.
      expect(statSync(newKeyFile).mode & 0o777).toBe(0o600);
      const newKey = readFileSync(newKeyFile, 'utf8').trim();
      expect(parseMasterKey(newKey)).not.toBeNull();
      expect(run.out + run.err + run.progress).not.toContain(newKey);
      expect(run.out + run.err + run.progress).not.toContain(oldKey);
      // Three accounts' keys; the redacted one has none.
      expect(run.lines[0]).toMatch(RE_WRAPPED);
      expect(run.lines[0]).toContain('Re-wrapped 2 data keys under');
      expect(run.progress).toMatch(/rotate-master \[.*\] 100% \| 2\/2 keys/);
      if (setup.env.ACCOUNTS_MASTER_KEY) {
        expect(run.lines[1]).toBe(`Now set ACCOUNTS_MASTER_KEY to the key in ${newKeyFile} for every instance, and start them.`);
        expect(existsSync(join(setup.dataDir, MASTER_KEY_FILE))).toBe(false);
      } else {
        // DATA_DIR/master.key was replaced whole, owner-only, nothing left aside.
        expect(run.lines[1]).toBe(`${join(setup.dataDir, MASTER_KEY_FILE)} now holds the new key: start the service.`);
        expect(readFileSync(join(setup.dataDir, MASTER_KEY_FILE), 'utf8').trim()).toBe(newKey);
        expect(statSync(join(setup.dataDir, MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
        expect(readdirSync(setup.dataDir).filter((file) => file.includes('.tmp'))).toEqual([]);
      }
      expect(run.lines[2]).toMatch(/^Then destroy the old master key/);

      // The old key opens no stored key, not even the deployment's own; the new one opens every one.
      const stored = await storedKeys(setup.envWith(newKey));
      expect(stored.keys).toHaveLength(2);
      expect(stored.keys.filter((k) => opensWith(oldKey, k))).toEqual([]);
      expect(stored.keys.every((k) => opensWith(newKey, k))).toBe(true);
      for (const { purpose, wrapped } of stored.deployment) {
        expect(tryUnwrapDeploymentKey(Buffer.from(oldKey, 'hex'), purpose, wrapped)).toBeNull();
        expect(tryUnwrapDeploymentKey(Buffer.from(newKey, 'hex'), purpose, wrapped)).not.toBeNull();
      }
      // And the service refuses it.
      await expect(startApp({ dataDir: setup.dataDir, key, env: { ...setup.env, ACCOUNTS_MASTER_KEY: oldKey } })).rejects.toThrow(
        /not the one this data was written with/,
      );

      const t = await startApp({ dataDir: setup.dataDir, key, env: setup.envWith(newKey) });
      try {
        for (const [name, id] of Object.entries(ids)) expect([name, (await t.get(id).expect(200)).body]).toEqual([name, bodies[name as keyof typeof ids]]);
        expect((await t.get(ids.a)).body.data.attributes.contact.email).toBe(PERSON.email);
        const reason = (await t.http().get(`${ACCOUNTS}/${ids.a}/events`).set('X-Api-Key', key).expect(200)).body.data[1].attributes.changes.reason;
        expect(reason).toBe(PERSON.reason);
        // Every external_id, the redacted account's included, is still taken: its reservation stream keeps its name.
        for (const [externalId, holder] of [['rot-a', ids.a], ['rot-b', ids.b], ['rot-c', ids.c]]) {
          const taken = await t.create({ external_id: externalId, entity_type: 'person' });
          expect([externalId, taken.status, taken.body.errors?.[0]?.code, taken.body.errors?.[0]?.meta]).toEqual([externalId, 409, 'external_id_taken', { account_id: holder }]);
        }
        const d = (await t.create({ external_id: 'rot-d', entity_type: 'person', contact: { email: 'd@rotation.example' } }).expect(201)).body.data.id;
        expect((await t.patch(d, { external_id: 'rot-a' })).status).toBe(409);
      } finally {
        await t.close();
      }

      // Seals made before the rotation, and after it, all verify.
      const verify = await cli(setup.envWith(newKey), ['verify']);
      expect(verify.lines.at(-1)).toMatch(/: no problems\.$/);
      expect(verify.code).toBe(0);
    } finally {
      removeDir(newKeyFile);
    }
  });
}

function interruptedRotation(name: string, makeSetup: () => Setup) {
  const current = eachSetup(makeSetup);
  it(`${name}: a rotation killed halfway leaves the service refusing both keys, and run again it finishes`, async () => {
    const setup = current();
    const { ids, key } = await seedAccounts(setup);
    const oldKey = configuredKey(setup);
    // Many more keys, with account ids sorting before the real ones: the rotation moves them first.
    const wrapping = dataKeyWrappingKey(Buffer.from(oldKey, 'hex'));
    const many = Array.from({ length: 20_000 }, (_, n) => {
      const accountId = `acc_00${String(n).padStart(24, '0')}`;
      return { accountId, wrappedKey: wrapDataKey(wrapping, accountId, randomBytes(32)) };
    });
    await setup.insertKeys(many);
    const total = many.length + 2;
    const newKeyFile = join(setup.dataDir, '..', `${setup.dataDir.split('/').at(-1)}-new.key`);
    try {
      const rotation = spawnCli(setup.env, ['keys', 'rotate-master', '--new-key-file', newKeyFile, '--generate']);
      // Killed as soon as the first page of keys has moved.
      const probe = await openStorage(loadConfig(setup.env), 'read-only', ['dataKeys']);
      let newKey = '';
      try {
        const deadline = Date.now() + 60_000;
        for (;;) {
          if (Date.now() > deadline) throw new Error('the rotation never moved a key');
          if (!newKey && existsSync(newKeyFile)) newKey = readFileSync(newKeyFile, 'utf8').trim();
          const first = newKey.length === 64 ? await probe.dataKeys.get(many[0].accountId) : null;
          if (first && opensWith(newKey, { accountId: many[0].accountId, wrappedKey: first })) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        await probe.close();
      }
      rotation.child.kill('SIGKILL');
      expect(await rotation.exited).toBeNull();

      const halfway = await storedKeys(setup.envWith(newKey));
      const moved = halfway.keys.filter((k) => opensWith(newKey, k)).length;
      expect(halfway.keys).toHaveLength(total);
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(total);
      expect(halfway.keys.filter((k) => opensWith(oldKey, k))).toHaveLength(total - moved);

      // In between, the service starts with neither key; the key file (SQLite) is still the old one.
      for (const masterKey of [oldKey, newKey]) {
        await expect(startApp({ dataDir: setup.dataDir, key, env: { ...setup.env, ACCOUNTS_MASTER_KEY: masterKey } })).rejects.toThrow(/rotation is unfinished/);
      }
      expect(configuredKey(setup)).toBe(oldKey);

      // --generate again would make another key: refused, the file kept.
      const again = await cli(setup.env, ['keys', 'rotate-master', '--new-key-file', newKeyFile, '--generate']);
      expect(again.code).toBe(2);
      expect(again.err).toContain(`${newKeyFile} exists already: to use the key in it (to resume a rotation, say), leave out --generate`);
      expect(readFileSync(newKeyFile, 'utf8').trim()).toBe(newKey);
      // Another new key: refused, the rotation under way is between other keys.
      const otherKeyFile = `${newKeyFile}.other`;
      writeFileSync(otherKeyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
      const other = await cli(setup.env, ['keys', 'rotate-master', '--new-key-file', otherKeyFile]);
      removeDir(otherKeyFile);
      expect(other.code).toBe(1);
      expect(other.err).toMatch(/error: Another rotation, between other master keys, is unfinished/);

      const resumed = await cli(setup.env, ['keys', 'rotate-master', '--new-key-file', newKeyFile]);
      expect(resumed.code).toBe(0);
      const [, rewrapped, already] = RE_WRAPPED.exec(resumed.lines[0])!;
      expect([Number(rewrapped), Number(already)]).toEqual([total - moved, moved]);
      expect((await storedKeys(setup.envWith(newKey))).keys.every((k) => opensWith(newKey, k))).toBe(true);

      const t = await startApp({ dataDir: setup.dataDir, key, env: setup.envWith(newKey) });
      try {
        expect((await t.get(ids.a).expect(200)).body.data.attributes).toMatchObject({ person: { name: { first: PERSON.first } }, contact: { email: PERSON.email } });
        expect((await t.create({ external_id: 'rot-b', entity_type: 'person' })).status).toBe(409);
      } finally {
        await t.close();
      }
    } finally {
      removeDir(newKeyFile);
    }
  });
}

describe('cli keys rotate-master on SQLite, the key in DATA_DIR/master.key', () => {
  wholeRotation('SQLite', sqliteSetup);
  interruptedRotation('SQLite', sqliteSetup);

  it('refuses a missing key file, a file that is not a key, the configured key itself, and a DATA_DIR without data, changing nothing', async () => {
    const setup = sqliteSetup();
    try {
      const missing = join(setup.dataDir, 'no-such.key');
      expect(await cli(setup.env, ['keys', 'rotate-master', '--new-key-file', missing])).toMatchObject({ code: 2, err: expect.stringContaining('No store at') });
      expect(existsSync(missing)).toBe(false);
      await seedAccounts(setup);
      expect(await cli(setup.env, ['keys', 'rotate-master', '--new-key-file', missing])).toMatchObject({ code: 2, err: expect.stringContaining(`Cannot read ${missing}: no such file (--generate makes one)`) });
      const notAKey = join(setup.dataDir, 'not-a.key');
      writeFileSync(notAKey, 'hunter2\n');
      expect(await cli(setup.env, ['keys', 'rotate-master', '--new-key-file', notAKey])).toMatchObject({ code: 2, err: expect.stringContaining('does not hold a 256-bit key') });
      const same = await cli(setup.env, ['keys', 'rotate-master', '--new-key-file', join(setup.dataDir, MASTER_KEY_FILE)]);
      expect(same).toMatchObject({ code: 2, err: expect.stringContaining('is the one in') });
      expect(await cli(setup.env, ['keys', 'rotate-master'])).toMatchObject({ code: 2, err: expect.stringContaining("required option '--new-key-file <path>' not specified") });
      // Nothing was marked: the service starts as before.
      await (await startApp({ dataDir: setup.dataDir })).close();
    } finally {
      await setup.dispose();
    }
  });
});

describePostgres('cli keys rotate-master on PostgreSQL, the key in ACCOUNTS_MASTER_KEY: a whole rotation', (database) => {
  wholeRotation('PostgreSQL', () => postgresSetup(database.url));
});

describePostgres('cli keys rotate-master on PostgreSQL, the key in ACCOUNTS_MASTER_KEY: an interrupted rotation', (database) => {
  interruptedRotation('PostgreSQL', () => postgresSetup(database.url));
});
