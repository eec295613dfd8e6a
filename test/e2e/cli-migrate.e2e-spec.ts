import { runCli } from '../../src/cli';
import { MIGRATIONS } from '../../src/storage/postgres/migrations';
import { removeDir, tempDataDir } from '../support/app-harness';
import { describePostgres } from '../support/postgres';

// `cli migrate`, as an operator runs it before starting a new build on PostgreSQL.

async function cli(env: Record<string, string>, ...args: string[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await runCli(args, env, { out: (line) => lines.push(line), err: (line) => errors.push(line) });
  return { code, lines, out: lines.join('\n'), err: errors.join('\n') };
}

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

describe('cli migrate without PostgreSQL', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));
  const dataDir = () => {
    const dir = tempDataDir();
    dirs.push(dir);
    return dir;
  };

  it('says there is nothing to migrate on SQLite, opening and creating nothing', async () => {
    const dir = dataDir();
    const run = await cli({ DATA_DIR: dir }, 'migrate');
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(run.lines).toEqual(['Nothing to migrate: no adapter is postgres (EVENT_STORE=sqlite, READ_MODEL=sqlite).']);
    expect((await cli({ DATA_DIR: dir }, 'keys', 'list')).code).toBe(2);
  });

  it('fails in one line naming DATABASE_URL, never its password, when the server cannot be reached', async () => {
    const run = await cli({ DATA_DIR: dataDir(), READ_MODEL: 'postgres', DATABASE_URL: 'postgres://operator:pw-never-shown@127.0.0.1:1/accounts' }, 'migrate');
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err.split('\n')).toEqual([
      'DATABASE_URL=postgres://operator:***@127.0.0.1:1/accounts (read-write)',
      expect.stringMatching(/^error: PostgreSQL at postgres:\/\/operator:\*\*\*@127\.0\.0\.1:1\/accounts \(DATABASE_URL\) is not usable: .*ECONNREFUSED/),
    ]);
  });
});

describePostgres('cli migrate on PostgreSQL', (database) => {
  let dataDir = '';
  beforeAll(() => (dataDir = tempDataDir()));
  afterAll(() => removeDir(dataDir));
  const env = () => ({ DATA_DIR: dataDir, EVENT_STORE: 'postgres', READ_MODEL: 'postgres', DATABASE_URL: database.url });

  it('applies every migration to a new database, says which, and running it again changes nothing', async () => {
    // Before: the read-only commands refuse the empty database, pointing here.
    const before = await cli(env(), 'keys', 'list');
    expect(before.code).toBe(2);
    expect(before.err).toContain(`lacks migrations ${MIGRATIONS.map((m) => m.version).join(', ')}`);
    expect(before.err).toContain('run cli migrate');

    const first = await cli(env(), 'migrate');
    expect(first.code).toBe(0);
    expect(first.err).toBe(`DATABASE_URL=${database.url} (read-write)`);
    expect(first.lines).toEqual([
      ...MIGRATIONS.map((m) => `Applied migration ${m.version}: ${m.description}`),
      `The schema is at migration ${LATEST}.`,
    ]);

    const again = await cli(env(), 'migrate');
    expect(again).toMatchObject({ code: 0, lines: [`Nothing to migrate: the schema is at migration ${LATEST} already.`] });

    const after = await cli(env(), 'keys', 'list');
    expect(after).toMatchObject({ code: 0, lines: ['No keys.'] });
    expect(after.err).toBe(`DATA_DIR=${dataDir}, DATABASE_URL=${database.url} (read-only)`);
  });
});
