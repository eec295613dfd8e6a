import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { ACCOUNTS, removeDir, startApp, TestApp, tempDataDir } from '../support/app-harness';
import { cliEnv, openedLine } from '../support/test-storage';

// The operator's CLI for keys, run against the DATA_DIR of a running service, as an operator would.

// A whole key (the 32+ character secret), not the hint `keys list` shows (sk_staging_ab12...).
const KEY_PATTERN = /sk_(?:production|staging)_[A-Za-z0-9]{32,}/g;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('CLI: keys create, list, revoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  const leftovers: string[] = [];
  const afterAllRemove = (dir: string) => leftovers.push(dir);
  afterAll(() => leftovers.forEach(removeDir));

  /** stdout as lines (and joined), stderr joined. */
  async function cli(...args: string[]): Promise<{ code: number; lines: string[]; out: string; err: string }> {
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await runCli(args, cliEnv(t.dataDir), { out: (line) => lines.push(line), err: (line) => errors.push(line) });
    return { code, lines, out: lines.join('\n'), err: errors.join('\n') };
  }

  async function create(org: string, env: string, scopes: string) {
    const result = await cli('keys', 'create', '--org', org, '--env', env, '--scopes', scopes);
    expect(result.code).toBe(0);
    const keys = result.out.match(KEY_PATTERN) ?? [];
    expect(keys).toHaveLength(1);
    return { ...result, key: keys[0] as string, id: /key_[0-9A-Z]{26}/.exec(result.out)![0] };
  }

  const postAccount = (key: string) =>
    t.http().post(ACCOUNTS).set('X-Api-Key', key).set('Content-Type', 'application/json').send({ data: { type: 'account', attributes: { entity_type: 'person' } } });

  it('keys create prints the key exactly once, and the key works for its scope only', async () => {
    const reader = await create('acme', 'production', 'accounts:read');
    expect(reader.code).toBe(0);
    expect(reader.key).toMatch(/^sk_production_[A-Za-z0-9]{32,}$/);
    expect(reader.lines).toEqual([
      `Created ${reader.id} for acme/production with scopes accounts:read.`,
      'The key is shown only now; store it safely:',
      reader.key,
    ]);
    // Which data it worked on, on stderr, without the key.
    expect(reader.err).toBe(openedLine(t.dataDir, 'read-write'));

    // A writer of the same tenant makes an account; the reader sees it but may not write.
    const writer = await create('acme', 'production', 'accounts:write');
    expect(writer.key).not.toBe(reader.key);
    const id = (await postAccount(writer.key).expect(201)).body.data.id;

    const read = await t.get(id, reader.key).expect(200);
    expect(read.body.data.id).toBe(id);
    expect((await t.http().get(ACCOUNTS).set('X-Api-Key', reader.key).expect(200)).body.data.map((a: { id: string }) => a.id)).toEqual([id]);
    for (const refused of [await postAccount(reader.key), await t.patch(id, { external_id: 'renamed' }, reader.key)]) {
      expect(refused.status).toBe(403);
      expect(refused.body.errors[0]).toMatchObject({ code: 'insufficient_scope', meta: { required_scope: 'accounts:write' } });
    }
    // Its tenant is acme/production: the bootstrap key (default/staging) does not see the account.
    await t.get(id).expect(404);
  });

  it('keys create records each scope once, and every scope when --scopes is left out', async () => {
    const twice = await create('acme', 'staging', 'accounts:read, accounts:read');
    expect(twice.lines[0]).toBe(`Created ${twice.id} for acme/staging with scopes accounts:read.`);

    const all = await cli('keys', 'create', '--org', 'acme', '--env', 'staging');
    expect(all.code).toBe(0);
    expect(all.lines[0]).toMatch(/ with scopes accounts:read,accounts:write,audit:read\.$/);
    const key = (all.out.match(KEY_PATTERN) ?? [])[0] as string;
    await postAccount(key).expect(201);
  });

  it('keys list shows id, organization, environment and scopes of every key, never a key or its hash', async () => {
    const made = await create('globex', 'staging', 'accounts:read,audit:read');
    const { code, lines, out } = await cli('keys', 'list');
    expect(code).toBe(0);

    const row = lines.find((line) => line.startsWith(`${made.id}\t`));
    expect(row).toBeDefined();
    const [id, org, env, scopes, , createdAt, state] = row!.split('\t');
    expect({ id, org, env, scopes, state }).toEqual({ id: made.id, org: 'globex', env: 'staging', scopes: 'accounts:read,audit:read', state: 'active' });
    expect(createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // The bootstrap key too: organization default, every scope.
    expect(lines.some((line) => /\tdefault\tstaging\taccounts:read,accounts:write,audit:read\t/.test(line))).toBe(true);

    for (const key of [made.key, t.key]) {
      const secret = key.replace(/^sk_[a-z]+_/, '');
      expect(out).not.toContain(secret);
      expect(out).not.toContain(sha256(key));
    }
    expect(out.match(KEY_PATTERN)).toBeNull();
  });

  it('keys revoke <id> refuses the key at once, and says so in the list', async () => {
    const made = await create('initech', 'production', 'accounts:read,accounts:write');
    await postAccount(made.key).expect(201);

    expect(await cli('keys', 'revoke', made.id)).toMatchObject({ code: 0, lines: [`Revoked ${made.id}.`] });
    const refused = await postAccount(made.key);
    expect(refused.status).toBe(401);
    expect(refused.body.errors[0]).toMatchObject({ code: 'unauthorized', source: { header: 'X-Api-Key' } });
    expect((await t.http().get(ACCOUNTS).set('X-Api-Key', made.key)).status).toBe(401);

    const row = (await cli('keys', 'list')).lines.find((line) => line.startsWith(`${made.id}\t`));
    expect(row).toMatch(/\trevoked \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const again = await cli('keys', 'revoke', made.id);
    expect(again.code).toBe(2);
    expect(again.err.split('\n').at(-1)).toBe(`error: no active key with id ${made.id}`);
  });

  it('keys list and keys revoke on a DATA_DIR holding no stores fail with a clear message and create nothing', async () => {
    const parent = tempDataDir();
    const nowhere = join(parent, 'not-the-data');
    afterAllRemove(parent);
    for (const args of [['keys', 'list'], ['keys', 'revoke', 'key_01ARZ3NDEKTSV4RRFFQ69G5FAV']]) {
      const lines: string[] = [];
      const code = await runCli(args, { DATA_DIR: nowhere }, (line) => lines.push(line));
      expect(code).toBe(2);
      expect(lines[0]).toBe(`DATA_DIR=${nowhere} (${args[1] === 'list' ? 'read-only' : 'read-write'})`);
      expect(lines[1]).toBe(`error: No store at ${join(nowhere, 'state.sqlite')}: nothing was created. Is DATA_DIR the service's data directory?`);
      expect(existsSync(nowhere)).toBe(false);
    }
  });

  describe('bad arguments exit 2 with a clear message and the usage, and change nothing', () => {
    const create = (...rest: string[]) => ['keys', 'create', ...rest];
    const invalid = (option: string, value: string, why: string) => `error: option '${option}' argument '${value}' is invalid. ${why}`;
    const SCOPES = 'accounts:read, accounts:write, audit:read';
    it.each([
      [[], 'Usage: cli [options] [command]'],
      [['frobnicate'], "error: unknown command 'frobnicate'"],
      [['keys'], 'Usage: cli keys [options] [command]'],
      [['keys', 'rotate'], "error: unknown command 'rotate'"],
      [create(), "error: required option '--org <organization>' not specified"],
      [create('--org', 'acme'), "error: required option '--env <environment>' not specified"],
      [create('--org', 'acme', '--env', 'dev'), invalid('--env <environment>', 'dev', 'it must be production or staging')],
      [create('--org', 'a b', '--env', 'staging'), invalid('--org <organization>', 'a b', 'an organization is 1-64 letters, digits, _ . - (starting with a letter or digit)')],
      [create('--org', 'acme', '--env', 'staging', '--scopes', 'accounts:delete,accounts:read'), invalid('--scopes <list>', 'accounts:delete,accounts:read', `unknown scope(s): accounts:delete; known: ${SCOPES}`)],
      // Each of these once made a key with EVERY scope, or for an organization named "--env".
      [create('--org', 'acme', '--env', 'staging', '--scopes'), "error: option '--scopes <list>' argument missing"],
      [create('--org', 'acme', '--env', 'staging', '--scope', 'accounts:read'), "error: unknown option '--scope'"],
      [create('--org', '--env', 'staging'), invalid('--org <organization>', '--env', 'an organization is 1-64 letters, digits, _ . - (starting with a letter or digit)')],
      [create('--org', 'acme', '--env', 'staging', '--scopes', ''), invalid('--scopes <list>', '', `it needs at least one of ${SCOPES}`)],
      [create('--org', 'acme', '--env', 'staging', 'accounts:read'), "error: too many arguments for 'create'. Expected 0 arguments but got 1."],
      [create('--org', 'acme', '--org', 'globex', '--env', 'staging'), invalid('--org <organization>', 'globex', 'it is given twice')],
      [create('--org', 'acme', '--env', 'staging', '--scopes', 'audit:read', '--scopes', 'accounts:read'), invalid('--scopes <list>', 'accounts:read', 'it is given twice')],
      [['keys', 'list', '--all'], "error: unknown option '--all'"],
      [['keys', 'revoke'], "error: missing required argument 'key-id'"],
    ])('%j', async (args, message) => {
      const before = (await cli('keys', 'list')).out;
      const result = await cli(...args);
      expect(result.code).toBe(2);
      expect(result.err.split('\n')[0]).toBe(message);
      expect(result.err).toMatch(/Usage: cli/);
      expect(result.out).toBe('');
      expect(result.err.match(KEY_PATTERN)).toBeNull();
      expect((await cli('keys', 'list')).out).toBe(before);
    });

    it('--help prints the usage of every command and exits 0', async () => {
      const help = await cli('--help');
      expect(help.code).toBe(0);
      expect(help.out).toMatch(/^Usage: cli \[options\] \[command\]/);
      for (const command of ['keys', 'replay', 'export', 'verify', 'rebuild', 'migrate']) expect(help.out).toMatch(new RegExp(`\\n  ${command} `));
      expect(help.out).toContain('DATA_DIR');
      for (const command of [['keys', 'create'], ['keys', 'list'], ['keys', 'revoke'], ['keys', 'rotate-master'], ['replay'], ['export'], ['verify'], ['rebuild'], ['migrate']]) {
        const own = await cli(...command, '--help');
        expect([command, own.code]).toEqual([command, 0]);
        expect(own.out).toMatch(new RegExp(`^Usage: cli ${command.join(' ')} `));
      }
      expect((await cli('keys', 'create', '--help')).out).toContain('--org <organization>');
    });
  });
});
