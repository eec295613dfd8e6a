import { createServer, Server } from 'node:net';
import request from 'supertest';
import { runCli } from '../../src/cli';
import { ACCOUNTS, appForEachSuite, removeDir, tempDataDir } from '../support/app-harness';
import { killLeftovers, spawnMain } from '../support/main-process';
import { cliEnv } from '../support/test-storage';

// Start-up a person can follow: a liveness endpoint without a key, PORT=0, a first-start key that a
// failed start cannot lose, and in production a pointer to the CLI when there is no key at all.

// A whole key (the 32+ character secret), not the hint `keys list` shows (sk_staging_ab12...).
const KEY_PATTERN = /sk_(?:production|staging)_[A-Za-z0-9]{32,}/g;

async function keysList(dataDir: string): Promise<string> {
  const lines: string[] = [];
  await runCli(['keys', 'list'], cliEnv(dataDir), { out: (line) => lines.push(line), err: () => undefined });
  return lines.join('\n');
}

describe('GET /health/live', () => {
  const t = appForEachSuite();

  it('answers 200 {"status":"ok",...} as plain JSON (terminus\'s), without a key', async () => {
    const response = await t.http().get('/health/live').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    await t.http().head('/health/live').expect(200);
    // A key, even a wrong one, changes nothing.
    await t.http().get('/health/live').set('X-Api-Key', 'not-a-key').expect(200);
  });

  it('answers other methods with 405 and Allow, and leaves the API behind its key', async () => {
    const post = await t.http().post('/health/live').expect(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    await t.http().get(ACCOUNTS).expect(401);
  });
});

describe('starting the service', () => {
  const dirs: string[] = [];
  const newDataDir = () => {
    const dir = tempDataDir();
    dirs.push(dir);
    return dir;
  };
  let blocker: Server | undefined;
  afterAll(() => {
    killLeftovers();
    blocker?.close();
    dirs.forEach(removeDir);
  });

  it('a first start on a taken port fails with a clear message and makes no key; the next start makes and prints it', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, resolve));
    const takenPort = (blocker.address() as { port: number }).port;
    const dataDir = newDataDir();

    const failed = spawnMain({ DATA_DIR: dataDir, PORT: String(takenPort) });
    expect(await failed.exited).toBe(1);
    expect(failed.stderr()).toContain(`Port ${takenPort} is in use`);
    expect(failed.stderr()).toContain('PORT=0');
    expect(failed.stdout().match(KEY_PATTERN)).toBeNull();
    expect(await keysList(dataDir)).toBe('No keys.');

    // PORT=0: the system picks a free port, and the listening line names it.
    const started = spawnMain({ DATA_DIR: dataDir, PORT: '0' });
    const port = await started.port();
    await request(`http://127.0.0.1:${port}`).get('/health/live').expect(200);
    const deadline = Date.now() + 10_000;
    while (!started.stdout().match(KEY_PATTERN) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const key = started.stdout().match(KEY_PATTERN)?.[0] ?? '';
    expect(key).toMatch(/^sk_staging_/);
    await request(`http://127.0.0.1:${port}`).get(ACCOUNTS).set('X-Api-Key', key).expect(200);
    await started.stop();
  });

  it('in production with no key at all, prints one line saying how to create one, and makes none', async () => {
    const dataDir = newDataDir();
    const main = spawnMain({ DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'production' });
    await main.port();
    const deadline = Date.now() + 10_000;
    while (!main.stdout().includes('keys create') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await main.stop();
    const hints = main.stdout().split('\n').filter((line) => line.includes('keys create'));
    expect(hints).toHaveLength(1);
    expect(JSON.parse(hints[0])).toMatchObject({ level: 'warn', message: expect.stringContaining('--env production'), data_dir: dataDir });
    expect(main.stdout().match(KEY_PATTERN)).toBeNull();
    expect(await keysList(dataDir)).toBe('No keys.');

    // Once a key exists, nothing more is said.
    await runCli(['keys', 'create', '--org', 'acme', '--env', 'production'], cliEnv(dataDir), () => undefined);
    const again = spawnMain({ DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'production' });
    await again.port();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await again.stop();
    expect(again.stdout()).not.toContain('keys create');
  });
});

describe('a store the service cannot use', () => {
  const dirs: string[] = [];
  afterAll(() => {
    killLeftovers();
    dirs.forEach(removeDir);
  });

  // Port 1: nothing listens there, so the connection is refused at once.
  it.each([
    ['PostgreSQL unreachable', { EVENT_STORE: 'postgres', READ_MODEL: 'postgres', DATABASE_URL: 'postgres://operator:pw-never-shown@127.0.0.1:1/accounts' }, /^PostgreSQL at postgres:\/\/operator:\*\*\*@127\.0\.0\.1:1\/accounts \(DATABASE_URL\) is not usable: .*ECONNREFUSED/],
    ['EventStoreDB unreachable', { EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'esdb://admin:pw-never-shown@127.0.0.1:1?tls=false' }, /^EventStoreDB at EVENTSTORE_CONNECTION_STRING \(127\.0\.0\.1:1\) cannot be used: /],
    ['DATABASE_URL missing', { EVENT_STORE: 'postgres' }, /^Invalid configuration: DATABASE_URL is required with EVENT_STORE=postgres/],
  ])('%s: exits 1 with one line on stderr naming the variable, never the password, and nothing else', async (_, env, message) => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const main = spawnMain({ DATA_DIR: dataDir, PORT: '0', ...env });
    expect(await main.exited).toBe(1);
    const lines = main.stderr().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(main.stderr() + main.stdout()).not.toContain('pw-never-shown');
    expect(main.stdout()).toBe('');
  });
});
