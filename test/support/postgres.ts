// PostgreSQL for tests: whether it is there, a fresh database per suite, stores opened on it.
// Also required by child processes (event-store-process.ts), so nothing here runs jest code on import.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { AccountReadModel } from '../../src/accounts/projection/account-read-model.port';
import { EventStore } from '../../src/storage/event-store.port';
import { migrate } from '../../src/storage/postgres/migrations';
import { PostgresAccountReadModel } from '../../src/storage/postgres/postgres-account-read-model';
import { PostgresEventStore } from '../../src/storage/postgres/postgres-event-store';
import { createPostgresPool, describeDatabaseUrl } from '../../src/storage/postgres/postgres-pool';

const ROOT = join(__dirname, '../..');

/** DATABASE_URL when set; else the usual local servers, trust auth. */
const CANDIDATES = process.env.DATABASE_URL
  ? [process.env.DATABASE_URL]
  : ['postgres://postgres@127.0.0.1:5432/postgres', 'postgres://root@127.0.0.1:5432/postgres'];

// Run by `node -e` in the repository: connects to each candidate in turn and prints the index of the
// first that may create databases, or why none would do.
const PROBE = `
const { Client } = require('pg');
(async () => {
  const problems = [];
  for (const [index, connectionString] of JSON.parse(process.argv[1]).entries()) {
    const client = new Client({ connectionString, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      const { rows } = await client.query(\`SELECT rolcreatedb OR rolsuper AS can, rolsuper AS superuser,
        EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pageinspect') AS pageinspect
        FROM pg_roles WHERE rolname = current_user\`);
      if (rows[0] && rows[0].can) return console.log(JSON.stringify({ index, pageinspect: rows[0].superuser && rows[0].pageinspect }));
      problems.push({ index, problem: 'its user may not create databases' });
    } catch (error) {
      problems.push({ index, problem: error.code || error.message });
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  console.log(JSON.stringify({ problems }));
})();`;

export type PostgresAvailability =
  | { url: string; reason?: undefined; /** The user is a superuser and the extension is installed. */ pageinspect: boolean }
  | { url: null; reason: string };

let availability: PostgresAvailability | undefined;

/**
 * Whether tests can use PostgreSQL, decided once per test file. Synchronously, because jest
 * collects describe blocks synchronously: a short child process tries each candidate.
 */
export function postgresAvailability(): PostgresAvailability {
  if (availability) return availability;
  const probe = spawnSync(process.execPath, ['-e', PROBE, JSON.stringify(CANDIDATES)], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  const answer = (() => {
    try {
      return JSON.parse(probe.stdout.trim().split('\n').at(-1) ?? '') as { index?: number; pageinspect?: boolean; problems?: { index: number; problem: string }[] };
    } catch {
      return { problems: [{ index: -1, problem: `the probe failed: ${(probe.error?.message ?? probe.stderr.trim()) || 'no answer'}` }] };
    }
  })();
  if (answer.index !== undefined) return (availability = { url: CANDIDATES[answer.index], pageinspect: answer.pageinspect === true });
  const reason = (answer.problems ?? [])
    .map(({ index, problem }) => (index >= 0 ? `${describeDatabaseUrl(CANDIDATES[index])}: ${problem}` : problem))
    .join('; ');
  return (availability = { url: null, reason });
}

/** The suite's own database; `url` is set once its beforeAll has run. */
export interface TestDatabase {
  url: string;
}

/**
 * A describe block run against a database of its own, created before its tests and dropped after.
 * Without PostgreSQL (or without pageinspect, when the block needs it) the block is skipped, saying
 * why on one line; under CI=true it fails instead.
 */
export function describePostgres(name: string, body: (database: TestDatabase) => void, needs: { pageinspect?: boolean } = {}): void {
  const found = postgresAvailability();
  const database: TestDatabase = { url: '' };
  const reason =
    found.url === null
      ? `PostgreSQL is not usable (${found.reason}). Set DATABASE_URL to a server where the user may create databases`
      : needs.pageinspect && !found.pageinspect
        ? `it reads pages with the pageinspect extension, which needs a superuser and the extension installed (${describeDatabaseUrl(found.url)})`
        : null;
  if (found.url === null || reason !== null) {
    if (process.env.CI === 'true') throw new Error(`CI=true, so every PostgreSQL suite must run, but "${name}" cannot: ${reason}`);
    process.stderr.write(`Skipping "${name}": ${reason}.\n`);
    describe.skip(name, () => body(database));
    return;
  }
  const adminUrl = found.url;
  describe(name, () => {
    let databaseName = '';
    beforeAll(async () => {
      databaseName = `ia_test_${randomBytes(6).toString('hex')}`;
      await asAdmin(adminUrl, async (admin) => {
        // A linguistic default collation, as many servers have, so that the byte order the schema
        // asks for ("C") is what the tests see; plain where the server has no ICU.
        const create = `CREATE DATABASE ${databaseName} TEMPLATE template0 ENCODING 'UTF8'`;
        await admin.query(`${create} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`).catch(() => admin.query(create));
      });
      const url = new URL(adminUrl);
      url.pathname = `/${databaseName}`;
      database.url = url.toString();
    });
    afterAll(async () => {
      if (databaseName) await asAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
    });
    body(database);
  });
}

async function asAdmin<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A pool on the database with its schema migrated. */
export async function migratedPool(url: string, max = 5): Promise<Pool> {
  const pool = createPostgresPool(url, { max, applicationName: 'identity-accounts-tests' });
  await migrate(pool);
  return pool;
}

/** An event store with a pool of its own, ended with the store: one "instance" of the service. */
class PostgresEventStoreOnOwnPool extends PostgresEventStore {
  constructor(private readonly ownPool: Pool) {
    super(ownPool);
  }
  override async close(): Promise<void> {
    await super.close();
    if (!this.ownPool.ended) await this.ownPool.end();
  }
}

export async function openPostgresEventStore(url: string): Promise<EventStore> {
  return new PostgresEventStoreOnOwnPool(await migratedPool(url));
}

/** A read model on a pool of its own: another instance's, for a child process (lease-holder-process.ts). */
export async function openPostgresAccountReadModel(url: string): Promise<AccountReadModel> {
  return new PostgresAccountReadModel(await migratedPool(url, 2));
}
