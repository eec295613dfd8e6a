import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { runCli } from '../../src/cli';
import { ACCOUNTS, removeDir, startApp, tempDataDir, TestApp } from '../support/app-harness';
import { storedBytes } from '../support/stored-data';
import { cliEnv, itReadingStoredBytes } from '../support/test-storage';

// Who may do what: X-Api-Key, scopes, tenants (organization x environment), where keys come from,
// and that only a hash of a key is ever stored.

const ROOT = join(__dirname, '..', '..');
const UNKNOWN_ID = 'acc_01ARZ3NDEKTSV4RRFFQ69G5FAV';
// A whole key (the 32+ character secret), not the hint `keys list` shows (sk_staging_ab12...).
const KEY_PATTERN = /sk_(?:production|staging)_[A-Za-z0-9]{32,}/g;

/** A key a user could make up: well formed, never issued. */
const madeUpKey = (environment: 'production' | 'staging') => `sk_${environment}_${randomBytes(32).toString('hex')}`;

/** The CLI's stdout (stderr, where it says which DATA_DIR it opened, is left out). */
async function cli(dataDir: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(args, cliEnv(dataDir), { out: (line) => lines.push(line), err: () => undefined });
  return { code, out: lines.join('\n') };
}

/** `keys create` through the CLI; the key is the one line of its output that is a key. */
async function createKey(dataDir: string, org: string, env: 'production' | 'staging', scopes?: string): Promise<{ key: string; id: string }> {
  const { code, out } = await cli(dataDir, 'keys', 'create', '--org', org, '--env', env, ...(scopes ? ['--scopes', scopes] : []));
  expect(code).toBe(0);
  const keys = out.match(KEY_PATTERN) ?? [];
  expect(keys).toHaveLength(1);
  return { key: keys[0] as string, id: /key_[0-9A-Z]{26}/.exec(out)![0] };
}

// --- the service as an operator starts it: `node src/main.ts`, in a process of its own ---------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });

interface RunningMain {
  url: string;
  stdout: () => string;
  /** SIGTERM, then everything it printed. */
  stop: () => Promise<{ stdout: string; stderr: string }>;
}

const running = new Set<ChildProcess>();

function spawnMain(dataDir: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    // Only what is given here: no NODE_ENV or ACCOUNTS_BOOTSTRAP_KEY from the environment of the test run.
    env: { PATH: process.env.PATH ?? '', ...cliEnv(dataDir), LOG_REQUESTS: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const closed = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, closed, stdout: () => stdout, stderr: () => stderr };
}

async function startMain(dataDir: string, env: Record<string, string> = {}): Promise<RunningMain> {
  const port = await freePort();
  const main = spawnMain(dataDir, { PORT: String(port), ...env });
  let exited = false;
  void main.closed.then(() => (exited = true));
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) throw new Error(`the service did not start: ${main.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stdout: main.stdout,
    stop: async () => {
      main.child.kill('SIGTERM');
      await main.closed;
      return { stdout: main.stdout(), stderr: main.stderr() };
    },
  };
}

async function until<T>(value: () => T | null | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const result = value();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

// -----------------------------------------------------------------------------------------------

describe('API keys, scopes and tenants', () => {
  let t: TestApp;
  let account: string;
  let unknownGet: request.Response;
  let unknownPatch: request.Response;

  beforeAll(async () => {
    t = await startApp();
    account = (await t.create({ entity_type: 'person', external_id: 'tenant-a-user', contact: { email: 'jane@example.com' } }).expect(201)).body.data.id;
    unknownGet = await t.get(UNKNOWN_ID).expect(404);
    unknownPatch = await t.patch(UNKNOWN_ID, { external_id: 'x' }).expect(404);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  const post = (key?: string) => {
    const req = t.http().post(ACCOUNTS).set('Content-Type', 'application/json');
    if (key !== undefined) req.set('X-Api-Key', key);
    return req.send({ data: { type: 'account', attributes: { entity_type: 'person' } } });
  };
  const listIds = async () => (await t.http().get(`${ACCOUNTS}?page[size]=100`).set('X-Api-Key', t.key).expect(200)).body.data.map((a: { id: string }) => a.id);
  const snapshot = async () => {
    const read = await t.get(account).expect(200);
    return { etag: read.headers.etag, body: read.body };
  };

  describe('authentication', () => {
    it('answers a request without X-Api-Key with 401 pointing at the header, and does nothing', async () => {
      const before = { ids: await listIds(), account: await snapshot() };
      const responses = [
        await t.http().get(`${ACCOUNTS}/${account}`),
        await post(),
        await t.http().patch(`${ACCOUNTS}/${account}`).send({ data: { type: 'account', id: account, attributes: { external_id: 'stolen' } } }),
        await t.http().get(ACCOUNTS),
      ];
      for (const response of responses) {
        expect(response.status).toBe(401);
        expect(response.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
        expect(response.body).toEqual({
          errors: [{ status: '401', code: 'unauthorized', title: 'Unauthorized', detail: 'Send an API key in the X-Api-Key header', source: { header: 'X-Api-Key' } }],
        });
      }
      expect({ ids: await listIds(), account: await snapshot() }).toEqual(before);
    });

    it.each([
      ['a well-formed key never issued', madeUpKey('staging')],
      ['a production key never issued', madeUpKey('production')],
      ['not a key at all', 'hunter2'],
      ['the right key with another environment', () => t.key.replace('sk_staging_', 'sk_production_')],
      ['the right key in other letter case', () => t.key.toUpperCase()],
    ])('answers %s with 401', async (_, key) => {
      const value = typeof key === 'function' ? key() : key;
      const response = await t.get(account, value);
      expect(response.status).toBe(401);
      expect(response.body.errors).toEqual([expect.objectContaining({ code: 'unauthorized', detail: 'The API key is unknown or revoked', source: { header: 'X-Api-Key' } })]);
      expect((await post(value)).status).toBe(401);
    });

    it('checks the key before reading the body: 401, not 400, 413 or 415', async () => {
      const attempts = [
        t.http().post(ACCOUNTS).set('Content-Type', 'application/json').send('{"data":'),
        t.http().post(ACCOUNTS).set('Content-Type', 'application/json').send(`{"pad":"${'a'.repeat(2 * 1024 * 1024)}"}`),
        t.http().post(ACCOUNTS).set('Content-Type', 'text/plain').send('hello'),
        t.http().patch(`${ACCOUNTS}/${account}`).set('X-Api-Key', madeUpKey('staging')).set('Content-Type', 'application/json').send('{"data":'),
      ];
      for (const response of await Promise.all(attempts)) {
        expect(response.status).toBe(401);
        expect(response.body.errors[0]).toMatchObject({ code: 'unauthorized', source: { header: 'X-Api-Key' } });
      }
    });

    it('refuses a key revoked with the CLI while the service runs, at once', async () => {
      const { key, id } = await createKey(t.dataDir, 'default', 'staging', 'accounts:read,accounts:write');
      // Accepted a few times first: whatever the service remembers of the key, it must not outlive the revocation.
      for (let round = 0; round < 3; round++) await t.get(account, key).expect(200);

      expect(await cli(t.dataDir, 'keys', 'revoke', id)).toEqual({ code: 0, out: `Revoked ${id}.` });
      const refused = await t.get(account, key);
      expect(refused.status).toBe(401);
      expect(refused.body.errors[0]).toMatchObject({ code: 'unauthorized', source: { header: 'X-Api-Key' } });
      expect((await post(key)).status).toBe(401);
      expect((await t.patch(account, { external_id: 'after-revoke' }, key)).status).toBe(401);
      expect((await cli(t.dataDir, 'keys', 'list')).out).toMatch(new RegExp(`^${id}\\t.*\\trevoked \\S+$`, 'm'));
      // The bootstrap key is untouched.
      await t.get(account).expect(200);
    });
  });

  describe('scopes', () => {
    it('lets a key without accounts:write read (200) but not create or update (403), and nothing changes', async () => {
      const { key } = await createKey(t.dataDir, 'default', 'staging', 'accounts:read');
      const before = { ids: await listIds(), account: await snapshot() };

      const read = await t.get(account, key).expect(200);
      expect(read.body).toEqual(before.account.body);
      await t.http().get(ACCOUNTS).set('X-Api-Key', key).expect(200);

      for (const response of [await post(key), await t.patch(account, { external_id: 'renamed' }, key)]) {
        expect(response.status).toBe(403);
        expect(response.body.errors).toEqual([
          expect.objectContaining({ status: '403', code: 'insufficient_scope', detail: 'This API key lacks the scope accounts:write', meta: { required_scope: 'accounts:write' } }),
        ]);
      }
      expect({ ids: await listIds(), account: await snapshot() }).toEqual(before);
    });

    it('refuses reads (403) to a key without accounts:read', async () => {
      for (const scopes of ['accounts:write', 'audit:read']) {
        const { key } = await createKey(t.dataDir, 'default', 'staging', scopes);
        for (const response of [await t.get(account, key), await t.get(UNKNOWN_ID, key), await t.http().get(ACCOUNTS).set('X-Api-Key', key)]) {
          expect(response.status).toBe(403);
          expect(response.body.errors).toEqual([expect.objectContaining({ code: 'insufficient_scope', meta: { required_scope: 'accounts:read' } })]);
        }
      }
    });
  });

  describe('tenants', () => {
    it.each([
      ['another organization', 'acme', 'staging'],
      ['the same organization in the other environment', 'default', 'production'],
    ] as const)('hides the account from %s: 404 exactly as for an unknown id, on GET and on PATCH', async (_, org, env) => {
      const { key } = await createKey(t.dataDir, org, env);
      const before = await snapshot();

      const read = await t.get(account, key);
      expect(read.status).toBe(404);
      expect(read.body).toEqual(unknownGet.body);
      // No ETag either: an error answer names no revision of anything.
      expect(read.headers.etag).toBeUndefined();
      expect(unknownGet.headers.etag).toBeUndefined();

      const patch = await t.patch(account, { external_id: 'hijacked', contact: { email: 'evil@example.com' } }, key);
      expect(patch.status).toBe(404);
      expect(patch.body).toEqual(unknownPatch.body);
      const withIfMatch = await t.http().patch(`${ACCOUNTS}/${account}`).set('X-Api-Key', key).set('If-Match', '"0"')
        .send({ data: { type: 'account', id: account, attributes: { external_id: 'hijacked' } } });
      expect(withIfMatch.status).toBe(404);
      expect(withIfMatch.body).toEqual(unknownPatch.body);

      expect(await snapshot()).toEqual(before);
      const theirs = await t.http().get(ACCOUNTS).set('X-Api-Key', key).expect(200);
      expect(theirs.body.data).toEqual([]);

      // Their own accounts live apart, external_ids included.
      const own = (await t.create({ entity_type: 'person', external_id: 'tenant-a-user' }, key).expect(201)).body.data.id;
      await t.get(own).expect(404);
      await t.get(own, key).expect(200);
    });
  });

  describe('storage of keys', () => {
    itReadingStoredBytes('stores only a hash: no key appears in any file of DATA_DIR or page of its database, nor in the logs', async () => {
      const issued = [t.key];
      for (const [org, env, scopes] of [['acme', 'production', 'accounts:read'], ['default', 'staging', undefined]] as const) {
        issued.push((await createKey(t.dataDir, org, env, scopes)).key);
      }
      const revoked = await createKey(t.dataDir, 'acme', 'staging');
      await cli(t.dataDir, 'keys', 'revoke', revoked.id);
      issued.push(revoked.key);
      for (const key of issued) await t.get(account, key);

      const files = await storedBytes(t.dataDir);
      expect(files.length).toBeGreaterThan(0);
      const needles = issued.flatMap((key) => [key, key.replace(/^sk_[a-z]+_/, '')]);
      const hits = files.flatMap(({ path, bytes }) => needles.filter((needle) => bytes.includes(Buffer.from(needle))).map(() => path));
      expect(hits).toEqual([]);
      expect(t.logs.filter((line) => needles.some((needle) => line.includes(needle)))).toEqual([]);
      // Nor does `keys list` show them.
      const listed = (await cli(t.dataDir, 'keys', 'list')).out;
      expect(needles.filter((needle) => listed.includes(needle))).toEqual([]);
    });
  });
});

describe('where keys come from', () => {
  const dirs: string[] = [];
  const newDataDir = () => {
    const dir = tempDataDir();
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach(removeDir));

  it('ACCOUNTS_BOOTSTRAP_KEY: the operator\'s key works, for organization default with every scope, across restarts', async () => {
    const dataDir = newDataDir();
    const key = madeUpKey('production');
    const first = await startApp({ dataDir, key });
    let id: string;
    try {
      id = (await first.create({ entity_type: 'person' }).expect(201)).body.data.id;
      await first.get(id).expect(200);
    } finally {
      await first.close();
    }
    const second = await startApp({ dataDir, key });
    try {
      await second.get(id).expect(200);
      await second.patch(id, { external_id: 'after-restart' }).expect(200);
    } finally {
      await second.close();
    }
    // One key only (no first-start key beside it): organization default, production, every scope.
    const listed = (await cli(dataDir, 'keys', 'list')).out.split('\n');
    expect(listed).toHaveLength(1);
    expect(listed[0].split('\t').slice(1, 4)).toEqual(['default', 'production', 'accounts:read,accounts:write,audit:read']);
  });

  it('first start without a key, outside production: creates one staging key, prints it once, and it works', async () => {
    const dataDir = newDataDir();
    const first = await startMain(dataDir);
    const key = await until(() => first.stdout().match(KEY_PATTERN)?.[0], 'the first-start key on stdout');
    expect(key).toMatch(/^sk_staging_/);

    const api = () => request(first.url);
    const created = await api().post(ACCOUNTS).set('X-Api-Key', key).set('Content-Type', 'application/json')
      .send({ data: { type: 'account', attributes: { entity_type: 'person' } } }).expect(201);
    await api().get(`${ACCOUNTS}/${created.body.data.id}`).set('X-Api-Key', key).expect(200);
    const listed = (await cli(dataDir, 'keys', 'list')).out.split('\n');
    expect(listed).toHaveLength(1);
    expect(listed[0].split('\t').slice(1, 4)).toEqual(['default', 'staging', 'accounts:read,accounts:write,audit:read']);

    const { stdout } = await first.stop();
    expect(stdout.match(KEY_PATTERN)).toEqual([key]);
    expect(stdout).toContain('It is shown only now');

    // A second start on the same DATA_DIR prints no key, and the first one still works.
    const second = await startMain(dataDir);
    await request(second.url).get(`${ACCOUNTS}/${created.body.data.id}`).set('X-Api-Key', key).expect(200);
    const again = await second.stop();
    expect(again.stdout.match(KEY_PATTERN)).toBeNull();
    expect(again.stdout).not.toContain('First start');
    expect((await cli(dataDir, 'keys', 'list')).out.split('\n')).toHaveLength(1);
  });

  it('with NODE_ENV=production creates no key at all', async () => {
    const dataDir = newDataDir();
    const main = await startMain(dataDir, { NODE_ENV: 'production' });
    await request(main.url).get(`${ACCOUNTS}/${UNKNOWN_ID}`).expect(401);
    const { stdout } = await main.stop();
    expect(stdout.match(KEY_PATTERN)).toBeNull();
    expect(stdout).not.toContain('First start');
    expect(await cli(dataDir, 'keys', 'list')).toEqual({ code: 0, out: 'No keys.' });
  });

  it('refuses to start on a malformed ACCOUNTS_BOOTSTRAP_KEY, with one clear message and no key made', async () => {
    const dataDir = newDataDir();
    const main = spawnMain(dataDir, { PORT: String(await freePort()), ACCOUNTS_BOOTSTRAP_KEY: 'sk_test_short' });
    expect(await main.closed).toBe(1);
    expect(main.stderr()).toMatch(/ACCOUNTS_BOOTSTRAP_KEY must look like sk_<production\|staging>_/);
    expect(main.stderr()).not.toContain('sk_test_short');
    expect(main.stdout().match(KEY_PATTERN)).toBeNull();
  });
});
