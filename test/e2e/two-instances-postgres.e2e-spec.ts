import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as PgClient } from 'pg';
import { ACCOUNT_STREAM_PREFIX } from '../../src/accounts/application/account-repository';
import { generateApiKey } from '../../src/auth/api-key';
import { runCli } from '../../src/cli';
import { ACCOUNTS, removeDir, tempDataDir } from '../support/app-harness';
import { freshFolds } from '../support/fresh-folds';
import { describePostgres } from '../support/postgres';
import { HttpAnswer, killAllServices, killService, send, ServiceProcess, startService, stopService } from '../support/service-process';

// Two service processes on one PostgreSQL event store and read model, as a deployment with several
// instances runs: each serves reads and writes; exactly one applies the projection (it holds the
// lease), and the other takes over when that one is killed.

jest.setTimeout(180_000);

const LEASE_ACQUIRED = /^\{.*"message":"projection lease acquired".*\}$/gm;

/** The pids that logged taking the projection lease, in order, with when they logged it. */
function leaseAcquisitions(service: ServiceProcess): { pid: number; time: number }[] {
  return [...service.output().matchAll(LEASE_ACQUIRED)].map((match) => {
    const line = JSON.parse(match[0]) as { pid: number; time: string };
    return { pid: line.pid, time: Date.parse(line.time) };
  });
}

async function until<T>(what: string, probe: () => T | null | undefined, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const found = probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const revisionOf = (answer: HttpAnswer) => /^"(\d+)"$/.exec(String(answer.headers.etag))?.[1];

describePostgres('Two service processes on one PostgreSQL (EVENT_STORE=postgres, READ_MODEL=postgres)', (database) => {
  const key = generateApiKey('staging');
  const dataDir = tempDataDir();
  const masterKey = randomBytes(32).toString('hex');
  const env = (): Record<string, string> => ({ EVENT_STORE: 'postgres', READ_MODEL: 'postgres', DATABASE_URL: database.url, ACCOUNTS_MASTER_KEY: masterKey });
  /** [the one that took the lease, the other], once both listen. */
  let instances: ServiceProcess[] = [];

  beforeAll(async () => {
    // One after the other: both would otherwise store the bootstrap key at the same moment.
    const first = await startService(dataDir, key, undefined, env());
    const second = await startService(dataDir, key, undefined, env());
    await until('one instance to take the projection lease', () => [first, second].some((s) => leaseAcquisitions(s).length > 0));
    instances = leaseAcquisitions(first).length ? [first, second] : [second, first];
  });
  afterAll(async () => {
    await Promise.all(instances.map(stopService));
    await killAllServices();
    removeDir(dataDir);
  });

  const create = (service: ServiceProcess, attributes: Record<string, unknown>) =>
    send(service.url, 'POST', ACCOUNTS, key, { data: { type: 'account', attributes: { entity_type: 'person', ...attributes } } });
  const patch = (service: ServiceProcess, id: string, attributes: Record<string, unknown>) =>
    send(service.url, 'PATCH', `${ACCOUNTS}/${id}`, key, { data: { type: 'account', id, attributes } });
  const get = (service: ServiceProcess, id: string) => send(service.url, 'GET', `${ACCOUNTS}/${id}`, key);
  const lookup = async (service: ServiceProcess, externalId: string) => {
    const answer = await send(service.url, 'GET', `${ACCOUNTS}?filter[external_id]=${encodeURIComponent(externalId)}`, key);
    expect(answer.status).toBe(200);
    return answer.body.data.map((account: { id: string }) => account.id);
  };

  it('has exactly one instance applying the projection', async () => {
    const [leader, follower] = instances;
    // Long enough for the follower to have tried for the lease twice (every second).
    await sleep(2500);
    expect(leaseAcquisitions(leader).map((a) => a.pid)).toEqual([leader.child.pid]);
    expect(leaseAcquisitions(follower)).toEqual([]);
  });

  it('reads on each instance what was just written on the other, at once', async () => {
    for (const [writer, reader] of [instances, [...instances].reverse()]) {
      for (let i = 0; i < 5; i++) {
        const externalId = `ryw-${writer.child.pid}-${i}`;
        const created = await create(writer, { external_id: externalId, contact: { email: `v0.${externalId}@instances.example` } });
        expect(created.status).toBe(201);
        const { id } = created.body.data;
        const read = await get(reader, id);
        expect([read.status, revisionOf(read), read.body]).toEqual([200, '0', created.body]);
        expect(await lookup(reader, externalId)).toEqual([id]);

        const patched = await patch(reader, id, { contact: { email: `v1.${externalId}@instances.example` } });
        expect(patched.status).toBe(200);
        const reread = await get(writer, id);
        expect([reread.status, revisionOf(reread), reread.body]).toEqual([200, '1', patched.body]);
      }
    }
  });

  it('lets exactly one of 20 concurrent creates with one external_id, spread over both, have it', async () => {
    for (let round = 0; round < 3; round++) {
      const externalId = `contested-${round}`;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => create(instances[i % 2], { external_id: externalId })));
      const created = answers.filter((answer) => answer.status === 201);
      expect(created).toHaveLength(1);
      const holder = created[0].body.data.id;
      for (const answer of answers.filter((a) => a.status !== 201)) {
        expect(answer.status).toBe(409);
        expect(answer.body.errors[0]).toMatchObject({ code: 'external_id_taken', meta: { account_id: holder } });
      }
      for (const service of instances) expect(await lookup(service, externalId)).toEqual([holder]);
    }
  });

  it('refuses on both instances, at the next request, a key they had been accepting once the CLI revokes it', async () => {
    const cli = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await runCli(args, { ...env(), DATA_DIR: dataDir }, { out: (line) => lines.push(line), err: () => undefined });
      return { code, out: lines.join('\n') };
    };
    const made = await cli('keys', 'create', '--org', 'default', '--env', 'staging', '--scopes', 'accounts:read');
    expect(made.code).toBe(0);
    const other = /sk_staging_[A-Za-z0-9]{32,}/.exec(made.out)![0];
    const id = /key_[0-9A-Z]{26}/.exec(made.out)![0];
    const listAs = (service: ServiceProcess) => send(service.url, 'GET', ACCOUNTS, other);
    for (let round = 0; round < 3; round++) for (const service of instances) expect((await listAs(service)).status).toBe(200);

    expect(await cli('keys', 'revoke', id)).toEqual({ code: 0, out: `Revoked ${id}.` });
    for (const service of instances) {
      const refused = await listAs(service);
      expect([refused.status, refused.body.errors[0].code]).toEqual([401, 'unauthorized']);
      expect((await send(service.url, 'GET', ACCOUNTS, key)).status).toBe(200);
    }
  });

  it('hands the projection to the other instance when the projecting one is killed with SIGKILL under write load: nothing acknowledged is lost, nothing applied twice', async () => {
    const [leader, survivor] = instances;
    expect(leaseAcquisitions(survivor)).toEqual([]);
    const problems: string[] = [];
    /** What each client was told: account id → the last value acknowledged, and its ETag. */
    const acknowledged = new Map<string, { n: number; revision: string }>();
    let writes = 0;
    let stop = false;
    const email = (tag: string, n: number) => `v${n}.${tag}@instances.example`;

    // Clients write through the survivor, one request at a time each: every answer must be a 2xx
    // carrying the value sent, whatever happens to the other instance meanwhile.
    const client = async (c: number) => {
      const mine: { id: string; tag: string; n: number }[] = [];
      for (let k = 0; !stop; k++) {
        if (mine.length < 2 || k % 4 === 0) {
          const tag = `load-${c}-${k}`;
          const answer = await create(survivor, { external_id: tag, contact: { email: email(tag, 0) } });
          if (answer.status !== 201 || answer.body.data.attributes.contact.email !== email(tag, 0)) {
            problems.push(`create ${tag}: ${answer.status} ${JSON.stringify(answer.body?.errors ?? answer.body?.data?.attributes)}`);
            return;
          }
          mine.push({ id: answer.body.data.id, tag, n: 0 });
          acknowledged.set(answer.body.data.id, { n: 0, revision: revisionOf(answer)! });
        } else {
          const account = mine[k % mine.length];
          const n = account.n + 1;
          const answer = await patch(survivor, account.id, { contact: { email: email(account.tag, n) } });
          if (answer.status !== 200 || answer.body.data.attributes.contact.email !== email(account.tag, n)) {
            problems.push(`PATCH ${account.tag} to v${n}: ${answer.status} ${JSON.stringify(answer.body?.errors ?? answer.body?.data?.attributes)}`);
            return;
          }
          account.n = n;
          acknowledged.set(account.id, { n, revision: revisionOf(answer)! });
        }
        writes++;
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c).catch((error) => problems.push(`client ${c}: ${error}`)));

    await until('writes before the kill', () => writes >= 40 || problems.length > 0);
    const killedAt = Date.now();
    await killService(leader);
    const beforeTakeover = writes;
    const takeover = await until('the survivor to take the projection lease', () => leaseAcquisitions(survivor)[0]);
    await until('writes after the takeover', () => writes >= beforeTakeover + 40 || problems.length > 0);
    stop = true;
    await Promise.all(clients);
    process.stdout.write(
      `      ${writes} writes acknowledged; the survivor logged taking the lease ${takeover.time - killedAt} ms after the SIGKILL\n`,
    );
    expect(problems).toEqual([]);
    expect(takeover.pid).toBe(survivor.child.pid);
    expect(leaseAcquisitions(survivor)).toHaveLength(1);

    // Every acknowledged write is readable on the survivor, with the value and revision it was acknowledged with.
    for (const [id, { n, revision }] of acknowledged) {
      const read = await get(survivor, id);
      expect([read.status, revisionOf(read), read.body.data.attributes.contact.email.split('.')[0]]).toEqual([200, revision, `v${n}`]);
    }

    // The read model is the fold of every stream: every account, each row at its stream's head revision.
    const folds = await freshFolds(dataDir, undefined, env());
    expect(folds.size).toBeGreaterThanOrEqual(acknowledged.size);
    for (const [id, fold] of folds) {
      const read = await get(survivor, id);
      expect([id, read.status, revisionOf(read), read.body]).toEqual([id, 200, String(fold.revision), fold.body]);
    }
    const pg = new PgClient({ connectionString: database.url });
    await pg.connect();
    try {
      // Straight from the tables: one row per account stream, at its head revision, and the checkpoint past every account event.
      const accountStreams = { text: 'stream LIKE $1', values: [`${ACCOUNT_STREAM_PREFIX}%`] };
      const { rows: heads } = await pg.query<{ id: string; revision: string }>(
        `SELECT substr(stream, ${ACCOUNT_STREAM_PREFIX.length + 1}) AS id, max(revision)::text AS revision FROM events WHERE ${accountStreams.text} GROUP BY stream ORDER BY 1`,
        accountStreams.values,
      );
      const { rows } = await pg.query<{ id: string; revision: string }>('SELECT id, revision::text AS revision FROM accounts ORDER BY id');
      expect(rows).toEqual(heads);
      const { rows: positions } = await pg.query<{ last: string; checkpoint: string }>(
        `SELECT (SELECT lpad(max(position)::text, 20, '0') FROM events WHERE ${accountStreams.text}) AS last,
                (SELECT position FROM projection_checkpoints WHERE projection = 'accounts') AS checkpoint`,
        accountStreams.values,
      );
      expect(positions[0].checkpoint >= positions[0].last).toBe(true);
    } finally {
      await pg.end();
    }
  });
});
