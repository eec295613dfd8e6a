import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { accountStream } from '../../src/accounts/application/account-repository';
import { EventChain, eventMetadata, hashOfStoredEvent } from '../../src/accounts/application/event-chain';
import { runAccountCommand } from '../../src/accounts/application/run-account-command';
import { decide } from '../../src/accounts/domain/decide';
import { fold } from '../../src/accounts/domain/evolve';
import { runCli } from '../../src/cli';
import { Actor } from '../../src/kernel/tenant';
import { NO_STREAM } from '../../src/storage/event-store.port';
import { toPosition } from '../../src/storage/sqlite/sqlite-event-store';
import { EVENTS_FILE } from '../../src/storage/sqlite/sqlite-storage';
import { ACCOUNTS, removeDir, startApp, TestApp, tempDataDir } from '../support/app-harness';
import { openServices } from '../support/services';
import { queryStore } from '../support/stored-data';
import { cliEnv, copyStores, eventsInSqlite, openedLine, storageEnv } from '../support/test-storage';

jest.setTimeout(60_000);

// The reviewer's CLI against the DATA_DIR of a real service: replay, export, and verify on an
// untouched store and on stores tampered with in every way the issue names.

const actor: Actor = { tenant: { organization_id: 'default', environment: 'staging' }, api_key_id: 'key_legacy', request_id: 'req_legacy', correlation_id: 'req_legacy' };
const SECRET = { first: 'Theodora', email: 'theodora.vance@cli-review.example', reason: 'flagged by analyst Cornelius Wrenfield' };

interface Run {
  code: number;
  lines: string[];
  out: string;
  err: string;
  progress: string;
}

async function cli(dataDir: string, args: string[], env: Record<string, string> = {}, options: { tty?: boolean } = {}): Promise<Run> {
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
  const code = await runCli(args, cliEnv(dataDir, env), {
    out: (line) => lines.push(line),
    err: (line) => errors.push(line),
    ...(options.tty ? { progress: terminal } : {}),
  });
  return { code, lines, out: lines.join('\n'), err: errors.join('\n'), progress };
}

const changeStatus = (t: TestApp, id: string, status: string, reason?: string) =>
  t.http().post(`${ACCOUNTS}/${id}/status`).set('X-Api-Key', t.key)
    .send({ data: { type: 'account-status-change', attributes: { status, ...(reason ? { reason } : {}) } } }).expect(200);

/** A stopped service's DATA_DIR: A (4 events), B (2), C (created, then redacted), with their external_id reservations. */
async function seededStore() {
  const t = await startApp();
  const a = (await t.create({ external_id: 'cli-a', entity_type: 'person', person: { name: { first: SECRET.first } }, contact: { email: SECRET.email } }).expect(201)).body.data.id as string;
  await t.patch(a, { contact: { phone: '+15550001111' } }).expect(200);
  await changeStatus(t, a, 'suspended', SECRET.reason);
  await changeStatus(t, a, 'active');
  const b = (await t.create({ external_id: 'cli-b', entity_type: 'business', business: { legal_name: 'Wrenfield Ltd' } }).expect(201)).body.data.id as string;
  await t.patch(b, { external_id: 'cli-b2' }).expect(200);
  const c = (await t.create({ external_id: 'cli-c', entity_type: 'person', contact: { email: 'c@cli-review.example' } }).expect(201)).body.data.id as string;
  await t.http().post(`${ACCOUNTS}/${c}/redact`).set('X-Api-Key', t.key).expect(200);
  const final = { a: (await t.get(a).expect(200)).body, c: (await t.get(c).expect(200)).body };
  await t.close();
  return { dataDir: t.dataDir, ids: { a, b, c }, final };
}

interface StoredEvent {
  type: string;
  data: string;
  metadata: string;
}

/** A copy of the stores to tamper with, and a way in below the service. */
function copyOf(dataDir: string) {
  const dir = copyStores(dataDir);
  const events = <Row>(sql: string, params: unknown[] = []) => queryStore<Row>(dir, 'events', sql, params);
  const row = async (stream: string, revision: number) =>
    (await events<StoredEvent>('SELECT type, data, metadata FROM events WHERE stream = ? AND revision = ?', [stream, revision]))[0];
  const update = (stream: string, revision: number, values: StoredEvent) =>
    events('UPDATE events SET type = ?, data = ?, metadata = ? WHERE stream = ? AND revision = ?', [values.type, values.data, values.metadata, stream, revision]);
  return { dir, events, row, update };
}

describe('The reviewer\'s CLI', () => {
  let store: Awaited<ReturnType<typeof seededStore>>;
  const dirs: string[] = [];
  beforeAll(async () => {
    store = await seededStore();
    dirs.push(store.dataDir);
  });
  afterAll(() => dirs.forEach(removeDir));
  const streamOf = (key: 'a' | 'b' | 'c') => accountStream(store.ids[key]);

  describe('replay', () => {
    it('prints each event, then the state after it, as a table', async () => {
      const run = await cli(store.dataDir, ['replay', store.ids.a]);
      expect(run.code).toBe(0);
      expect(run.err).toBe(openedLine(store.dataDir, 'read-only'));
      expect(run.lines[0]).toMatch(/^revision +occurred_at +event +actor +request$/);
      const rows = run.lines.filter((line) => /^\d/.test(line));
      expect(rows.map((line) => line.split(/ +/).slice(0, 3).filter((_, i) => i !== 1))).toEqual([
        ['0', 'account.created'], ['1', 'account.updated'], ['2', 'account.status_changed'], ['3', 'account.status_changed'],
      ]);
      for (const line of rows) expect(line).toMatch(/ default\/staging key_[0-9A-Z]{26} +req_/);
      expect(run.lines.filter((line) => line.startsWith('    state after'))).toEqual([
        '    state after:', ...Array(3).fill('    state after (what changed; the rest as before):'),
      ]);
      expect(run.out).toContain(`reason      ${SECRET.reason}`);
      // After the suspension: the status moved (and updated_at, unless within the same second), nothing else.
      const afterSuspension = run.lines.slice(run.lines.indexOf(rows[2]));
      const changed = afterSuspension.slice(afterSuspension.indexOf('    state after (what changed; the rest as before):') + 1, afterSuspension.indexOf(rows[3]));
      expect(changed[0]).toMatch(/^ {6}status +suspended$/);
      expect(changed.slice(1).map((line) => line.trim().split(/ +/)[0])).toEqual(changed.length > 1 ? ['updated_at'] : []);
    });

    it('prints NDJSON with --json: the account-event and the account after it, the last state being what GET answers', async () => {
      const run = await cli(store.dataDir, ['replay', store.ids.a, '--json']);
      expect(run.code).toBe(0);
      const steps = run.lines.map((line) => JSON.parse(line));
      expect(steps.map((s) => [s.event.type, s.event.attributes.revision, s.event.attributes.event_type, s.state.attributes.status])).toEqual([
        ['account-event', 0, 'account.created', 'pending'],
        ['account-event', 1, 'account.updated', 'pending'],
        ['account-event', 2, 'account.status_changed', 'suspended'],
        ['account-event', 3, 'account.status_changed', 'active'],
      ]);
      expect(steps[2].event.attributes.changes.reason).toBe(SECRET.reason);
      expect(steps.at(-1).state).toEqual(store.final.a.data);
    });

    it('shows a redacted account with "[redacted]" values and its redacted state', async () => {
      const run = await cli(store.dataDir, ['replay', store.ids.c, '--json']);
      const steps = run.lines.map((line) => JSON.parse(line));
      expect(steps[0].event.attributes.changes.contact).toBe('[redacted]');
      expect(run.out).not.toContain('c@cli-review.example');
      expect(steps.at(-1).state).toEqual(store.final.c.data);
    });

    it('fails with exit 1 for an unknown account, 2 for a malformed id or a DATA_DIR without stores', async () => {
      expect(await cli(store.dataDir, ['replay', 'acc_01ARZ3NDEKTSV4RRFFQ69G5FAV'])).toMatchObject({ code: 1, err: expect.stringContaining('error: no account acc_01ARZ3NDEKTSV4RRFFQ69G5FAV in this DATA_DIR') });
      expect((await cli(store.dataDir, ['replay', 'nope'])).code).toBe(2);
      const parent = tempDataDir();
      dirs.push(parent);
      const nowhere = join(parent, 'missing');
      const missing = await cli(nowhere, ['replay', store.ids.a]);
      expect(missing.code).toBe(2);
      const where = eventsInSqlite ? `${join(nowhere, EVENTS_FILE)}:` : `${storageEnv(nowhere).DATABASE_URL} (DATABASE_URL: its schema lacks migrations`;
      expect(missing.err).toContain(`error: No store at ${where}`);
      expect(missing.err).toContain('nothing was created');
      expect(existsSync(nowhere)).toBe(false);
    });
  });

  describe('export', () => {
    it('prints the raw stream as NDJSON, exactly as stored, ciphertext included, without needing the master key', async () => {
      // Another master key: export reads no personal data, so it neither needs nor checks the key.
      const run = await cli(store.dataDir, ['export', store.ids.a], { ACCOUNTS_MASTER_KEY: randomBytes(32).toString('hex') });
      expect(run.code).toBe(0);
      const lines = run.lines.map((line) => JSON.parse(line));
      const rows = await queryStore<Record<string, string | number | Date>>(store.dataDir, 'events', 'SELECT * FROM events WHERE stream = ? ORDER BY revision', [streamOf('a')]);
      // As stored: SQLite keeps the time as ISO text, PostgreSQL as a timestamptz (which pg reads as a Date).
      const time = (at: unknown) => (at instanceof Date ? at.toISOString() : at);
      expect(lines.map((l) => [l.stream, l.revision, l.position, l.recorded_at, l.id, l.type, JSON.stringify(l.data), JSON.stringify(l.metadata)])).toEqual(
        rows.map((r) => [r.stream, Number(r.revision), toPosition(Number(r.position)), time(r.recorded_at), r.event_id, r.type, r.data, r.metadata]),
      );
      expect(lines[0].data.personal).toMatch(/^v1\./);
      expect(lines[0].data.sealed_fields).toEqual(['person', 'business', 'contact', 'address', 'identity_numbers']);
      expect(lines[0].metadata.seal).toMatch(/^v1\.[0-9a-f]{64}$/);
      for (const value of Object.values(SECRET)) expect(run.out).not.toContain(value);
    });
  });

  describe('verify', () => {
    it('exits 0 on the untouched store (one account redacted), with a progress bar on a terminal', async () => {
      const run = await cli(store.dataDir, ['verify'], {}, { tty: true });
      expect(run.lines).toEqual([expect.stringMatching(/^Checked \d+ events in \d+ streams and 3 read-model rows: no problems\.$/)]);
      expect(run.code).toBe(0);
      expect(run.err).toBe(openedLine(store.dataDir, 'read-only'));
      expect(run.progress).toContain('hash chains and seals');
      expect(run.progress).toContain('100%');
      // Without a terminal, no bar at all.
      expect((await cli(store.dataDir, ['verify'])).progress).toBe('');
      expect(await cli(store.dataDir, ['verify', store.ids.c])).toMatchObject({ code: 0, lines: ['Checked 2 events in 1 stream and 1 read-model row: no problems.'] });
    });

    it('never prints a personal value, not even of a tampered row', async () => {
      const copy = copyOf(store.dataDir);
      dirs.push(copy.dir);
      await queryStore(copy.dir, 'state', "UPDATE accounts SET status = 'inactive' WHERE id = ?", [store.ids.a]);
      const run = await cli(copy.dir, ['verify']);
      expect(run.code).toBe(1);
      expect(run.lines).toContain(`${streamOf('a')}@3: read model row differs from a fresh fold of its stream in: status`);
      // On a terminal, the same lines, once the progress bars are done.
      const onTerminal = await cli(copy.dir, ['verify'], {}, { tty: true });
      expect([onTerminal.code, onTerminal.lines]).toEqual([1, run.lines]);
      expect(onTerminal.progress).toContain('read model');
      for (const value of Object.values(SECRET)) expect(run.out).not.toContain(value);
    });

    it('reports events written before seals existed as unsealed, not as tampered; --require-seals counts them', async () => {
      const dir = tempDataDir();
      dirs.push(dir);
      const services = await openServices(dir);
      const id = services.ids.accountId();
      const now = '2025-06-01T00:00:00Z';
      const created = decide({ kind: 'CreateAccount', account_id: id, tenant: actor.tenant, attributes: { entity_type: 'person', contact: { email: SECRET.email } }, now }, null);
      const suspended = decide({ kind: 'ChangeStatus', status: 'suspended', reason: SECRET.reason, now }, fold(created));
      // As the version before seals stored them: schema version 1, prev_hash, no seal, no sealed_fields.
      let prevHash: string | null = null;
      const legacy = [];
      for (const event of [...created, ...suspended]) {
        const { type, data } = await services.eventCodec.encode(id, event);
        delete data.sealed_fields;
        const stored = { id: randomUUID(), type, data, metadata: { ...eventMetadata(actor, now), schema_version: 1, prev_hash: prevHash } };
        prevHash = hashOfStoredEvent(stored);
        legacy.push(stored);
      }
      await services.eventStore.appendToStream(accountStream(id), legacy, NO_STREAM);
      // Then the upgraded service goes on: sealed events, in that stream and in a new one.
      const run = (accountId: string, command: Parameters<typeof runAccountCommand>[1]['command']) => runAccountCommand(services.repository, { accountId, actor, command });
      await run(id, () => ({ kind: 'ChangeStatus', status: 'active', reason: null, now }));
      const other = services.ids.accountId();
      await run(other, () => ({ kind: 'CreateAccount', account_id: other, tenant: actor.tenant, attributes: { entity_type: 'business' }, now }));
      await services.projection.catchUp();
      await services.close();

      const verified = await cli(dir, ['verify']);
      expect(verified.lines).toEqual(['2 events without a seal: written before seals existed.', 'Checked 4 events in 2 streams and 2 read-model rows: no problems.']);
      expect(verified.code).toBe(0);
      const strict = await cli(dir, ['verify', '--require-seals']);
      expect(strict.code).toBe(1);
      expect(strict.lines).toEqual([
        '2 events without a seal: written before seals existed, counted as problems (--require-seals).',
        'Checked 4 events in 2 streams and 2 read-model rows: 2 problems.',
      ]);
      // Their reviewers still read them, the sealed field names derived from the events' shapes.
      const trail = JSON.parse((await cli(dir, ['replay', id, '--json'])).lines[1]);
      expect(trail.event.attributes.changes).toMatchObject({ to: 'suspended', reason: SECRET.reason });
    });

    const tampered: [string, (copy: ReturnType<typeof copyOf>) => Promise<unknown>, (stream: (key: 'a' | 'b' | 'c') => string) => string[]][] = [
      [
        'one byte of a stored event altered (its ciphertext)',
        async (copy) => {
          const event = await copy.row(streamOf('a'), 1);
          const data = JSON.parse(event.data);
          data.personal = data.personal.slice(0, 20) + (data.personal[20] === 'A' ? 'B' : 'A') + data.personal.slice(21);
          await copy.update(streamOf('a'), 1, { ...event, data: JSON.stringify(data) });
        },
        (s) => [`${s('a')}@1: seal does not match: the event was changed, moved or forged`, `${s('a')}@2: prev_hash does not match the event before it (revision 1)`],
      ],
      [
        'a status change rewritten in clear (suspended → inactive)',
        async (copy) => {
          const event = await copy.row(streamOf('a'), 2);
          await copy.update(streamOf('a'), 2, { ...event, data: event.data.replace('"to":"suspended"', '"to":"inactive"') });
        },
        (s) => [`${s('a')}@2: seal does not match: the event was changed, moved or forged`, `${s('a')}@3: prev_hash does not match the event before it (revision 2)`],
      ],
      [
        'one event deleted',
        (copy) => copy.events('DELETE FROM events WHERE stream = ? AND revision = 1', [streamOf('a')]),
        (s) => [`${s('a')}@1: revision 1 is missing: the stream goes from revision 0 to 2`, `${s('a')}@2: prev_hash does not match the event before it (revision 0)`],
      ],
      [
        'the last event of a stream deleted',
        (copy) => copy.events('DELETE FROM events WHERE stream = ? AND revision = 3', [streamOf('a')]),
        (s) => [`${s('a')}@3: read model row is at revision 3, but the stream ends at revision 2: events were removed`],
      ],
      [
        'two events swapped',
        async (copy) => {
          const [one, two] = [await copy.row(streamOf('a'), 1), await copy.row(streamOf('a'), 2)];
          await copy.update(streamOf('a'), 1, two);
          await copy.update(streamOf('a'), 2, one);
        },
        (s) => [
          `${s('a')}@1: prev_hash does not match the event before it (revision 0)`,
          `${s('a')}@1: seal does not match: the event was changed, moved or forged`,
          `${s('a')}@2: prev_hash does not match the event before it (revision 1)`,
          `${s('a')}@2: seal does not match: the event was changed, moved or forged`,
        ],
      ],
      [
        'a whole stream rewritten with every hash recomputed (the seals kept)',
        (copy) => rewrite(copy, streamOf('b'), () => undefined),
        (s) => [0, 1].map((revision) => `${s('b')}@${revision}: seal does not match: the event was changed, moved or forged`),
      ],
      [
        'a whole stream rewritten with every hash and seal recomputed under another key',
        (copy) => {
          const forger = new EventChain(randomBytes(32));
          return rewrite(copy, streamOf('b'), (event, revision) => (event.metadata.seal = forger.sealOf(streamOf('b'), BigInt(revision), event)));
        },
        (s) => [0, 1].map((revision) => `${s('b')}@${revision}: seal does not match: the event was changed, moved or forged`),
      ],
      [
        'a whole stream rewritten with the seals stripped',
        (copy) => rewrite(copy, streamOf('b'), (event) => delete event.metadata.seal),
        (s) => [0, 1].map((revision) => `${s('b')}@${revision}: seal missing on an event of schema version 2: it was removed`),
      ],
      [
        'a whole stream rewritten as if written before seals (schema version 1, no seals)',
        (copy) =>
          rewrite(copy, streamOf('b'), (event) => {
            delete event.metadata.seal;
            event.metadata.schema_version = 1;
          }),
        (s) => [0, 1].map((revision) => `${s('b')}@${revision}: unsealed event after sealed ones: its seal was removed`),
      ],
    ];

    it('exits 1 when the newest events of the whole log were removed: the read model has seen them', async () => {
      const copy = copyOf(store.dataDir);
      dirs.push(copy.dir);
      const head = async () => Number((await copy.events<{ position: number | string }>('SELECT MAX(position) AS position FROM events'))[0].position);
      const position = await head();
      await copy.events('DELETE FROM events WHERE position = ?', [position]);
      const run = await cli(copy.dir, ['verify']);
      expect(run.code).toBe(1);
      expect(run.lines).toContain(
        `read model: has applied events up to position ${toPosition(position)}, but the event store ends at ${toPosition(await head())}: events were removed from the end of the log`,
      );
      expect(run.lines).toContain(`${streamOf('c')}@1: read model row is at revision 1, but the stream ends at revision 0: events were removed`);
    });

    it('needs the master key the data was written with: without it, or with another, it stops with a clear message', async () => {
      const copy = copyOf(store.dataDir);
      dirs.push(copy.dir);
      const masterKey = readFileSync(join(copy.dir, 'master.key'), 'utf8').trim();
      rmSync(join(copy.dir, 'master.key'));
      for (const args of [['verify'], ['replay', store.ids.a]]) {
        const missing = await cli(copy.dir, args);
        expect([missing.code, missing.err.split('\n')[1]]).toEqual([2, `error: No master key: set ACCOUNTS_MASTER_KEY, or put the key file at ${join(copy.dir, 'master.key')}`]);
        const wrong = await cli(copy.dir, args, { ACCOUNTS_MASTER_KEY: randomBytes(32).toString('hex') });
        expect([wrong.code, wrong.err.split('\n')[1]]).toEqual([2, 'error: The master key is not the one this data was written with: set ACCOUNTS_MASTER_KEY (or DATA_DIR/master.key) back to it']);
        expect((await cli(copy.dir, args, { ACCOUNTS_MASTER_KEY: masterKey })).code).toBe(0);
      }
      // Read-only: no key file was made for it.
      expect(existsSync(join(copy.dir, 'master.key'))).toBe(false);
    });

    it.each(tampered)('exits 1 and names stream and revision: %s', async (_, tamper, expected) => {
      const copy = copyOf(store.dataDir);
      dirs.push(copy.dir);
      await tamper(copy);
      const run = await cli(copy.dir, ['verify']);
      expect(run.code).toBe(1);
      for (const line of expected(streamOf)) expect(run.lines).toContain(line);
      expect(run.lines.at(-1)).toMatch(/: \d+ problems?\.$/);
      // The single-account check finds it too, and the untouched accounts stay clean.
      if (!expected(streamOf)[0].startsWith(streamOf('b'))) expect((await cli(copy.dir, ['verify', store.ids.a])).code).toBe(1);
      expect((await cli(copy.dir, ['verify', store.ids.c])).code).toBe(0);
    });
  });
});

/**
 * What someone with write access but without the master key can do: change a stream's clear
 * content (here B's external_id) and recompute every prev_hash so the chain itself holds.
 */
async function rewrite(
  copy: ReturnType<typeof copyOf>,
  stream: string,
  alter: (event: { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }, revision: number) => void,
) {
  const rows = await copy.events<StoredEvent & { revision: number | string }>('SELECT revision, type, data, metadata FROM events WHERE stream = ? ORDER BY revision', [stream]);
  let prevHash: string | null = null;
  for (const row of rows) {
    const event = { type: row.type, data: JSON.parse(row.data), metadata: JSON.parse(row.metadata) };
    if (event.data.external_id) event.data.external_id = `${event.data.external_id}-forged`;
    event.metadata.prev_hash = prevHash;
    alter(event, Number(row.revision));
    prevHash = hashOfStoredEvent(event);
    await copy.update(stream, Number(row.revision), { type: event.type, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) });
  }
}
