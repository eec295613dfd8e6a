// How a lookup by external_id and a page of a filtered list cost at 1,000 and at 1,000,000 accounts
// (npx ts-node --transpile-only bench/list-and-lookup.ts; `npm run bench` is the service-level benchmark).
// Seeds the SQLite read model directly (one transaction, no events), then times the adapter's own
// queries, the ones GET /accounts runs. The ratios are what matters: both sizes run in one process,
// on one machine, warm.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import { AccountFilter, ListBound } from '../src/accounts/projection/account-read-model.port';
import { Tenant } from '../src/kernel/tenant';
import { openSqlite } from '../src/storage/sqlite/sqlite-database';
import { SqliteAccountReadModel } from '../src/storage/sqlite/sqlite-account-read-model';
import { STATE_FILE } from '../src/storage/sqlite/sqlite-storage';

const SIZES = [1_000, 1_000_000];
const TENANT: Tenant = { organization_id: 'bench', environment: 'production' };
const OTHER: Tenant = { organization_id: 'neighbour', environment: 'production' };
const SAMPLES = 2_000;
const START = Date.parse('2024-01-01T00:00:00Z');
// Roughly what a real row carries: personal data sealed with the account's key.
const SEALED = `v1.${'x'.repeat(320)}`;

interface Seeded {
  readModel: SqliteAccountReadModel;
  close: () => void;
  /** Row number → external_id, id and created_at, computed rather than stored. */
  account: (n: number) => { external_id: string; id: string; created_at: string };
  seconds: number;
  megabytes: number;
}

// suspended 5%, inactive 10%, pending ~28%, active the rest; business 25%; inactive businesses 5%.
const statusOf = (n: number) => (n % 20 === 0 ? 'suspended' : n % 10 === 5 ? 'inactive' : n % 3 === 0 ? 'pending' : 'active');
const entityTypeOf = (n: number) => (n % 4 === 1 ? 'business' : 'person');
const createdAtOf = (n: number) => new Date(START + Math.floor(n / 7) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function seed(dir: string, size: number): Seeded {
  const started = process.hrtime.bigint();
  const db = openSqlite(join(dir, STATE_FILE), { durable: false });
  const readModel = new SqliteAccountReadModel(db);
  const ulid = monotonicFactory();
  const ids: string[] = new Array(size);
  for (let n = 0; n < size; n++) ids[n] = `acc_${ulid(START + Math.floor(n / 7) * 1000)}`;
  const insert = db.prepare(
    `INSERT INTO accounts (id, organization_id, environment, status, external_id, entity_type, sessions, documents, created_at,
       updated_at, redacted_at, sealed_personal, revision) VALUES (?, ?, ?, ?, ?, ?, '[]', '[]', ?, NULL, NULL, ?, 0)`,
  );
  db.transaction(() => {
    for (let n = 0; n < size; n++) {
      insert.run(ids[n], TENANT.organization_id, TENANT.environment, statusOf(n), `user-${n}`, entityTypeOf(n), createdAtOf(n), SEALED);
    }
    // A neighbour with the same external_ids: tenants share the indexes, never the answers.
    for (let n = 0; n < Math.min(size, 1000); n++) {
      insert.run(`acc_${ulid()}`, OTHER.organization_id, OTHER.environment, 'active', `user-${n}`, 'person', createdAtOf(n), SEALED);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const megabytes = statSync(join(dir, STATE_FILE)).size / 1e6;
  return { readModel, close: () => db.close(), account: (n) => ({ external_id: `user-${n}`, id: ids[n], created_at: createdAtOf(n) }), seconds, megabytes };
}

/** Median and 99th percentile in microseconds of `samples` runs of `task(i)`, after a warm-up. */
async function time(samples: number, task: (i: number) => Promise<unknown>): Promise<{ median: number; p99: number }> {
  for (let i = 0; i < 200; i++) await task(i);
  const durations: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    await task(i);
    durations.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  durations.sort((a, b) => a - b);
  return { median: durations[Math.floor(samples / 2)], p99: durations[Math.floor(samples * 0.99)] };
}

/**
 * A deterministic spread of row numbers over the middle of the table, so that at both sizes a page
 * from there is full (15 rows) even for a 5% filter: like is compared with like.
 */
const spread = (size: number) => (i: number) => Math.floor((0.35 + (((i * 7919) % 10007) / 10007) * 0.3) * size);

type Measure = { name: string; run: (s: Seeded, size: number) => Promise<{ median: number; p99: number }> };

const pageFilters: [string, AccountFilter][] = [
  ['all', {}],
  ['status=active', { status: 'active' }],
  ['status=suspended (5%)', { status: 'suspended' }],
  ['entity_type=business', { entity_type: 'business' }],
  ['status=inactive & entity_type=business (5%)', { status: 'inactive', entity_type: 'business' }],
];

const MEASURES: Measure[] = [
  {
    name: 'lookup by external_id (hit)',
    run: (s, size) => time(SAMPLES, (i) => s.readModel.list(TENANT, { external_id: s.account(spread(size)(i)).external_id }, { size: 15 }).then(expectRows(1))),
  },
  {
    name: 'lookup by external_id (miss)',
    run: (s) => time(SAMPLES, (i) => s.readModel.list(TENANT, { external_id: `nobody-${i}` }, { size: 15 }).then(expectRows(0))),
  },
  ...pageFilters.flatMap(([label, filter]): Measure[] => [
    { name: `first page, ${label}`, run: (s) => time(SAMPLES, () => s.readModel.list(TENANT, filter, { size: 15 }).then(expectRows(15))) },
    {
      name: `deep page (after), ${label}`,
      run: (s, size) => time(SAMPLES, (i) => s.readModel.list(TENANT, filter, { size: 15, after: bound(s, spread(size)(i)) }).then(expectRows(15))),
    },
    {
      name: `deep page (before), ${label}`,
      run: (s, size) => time(SAMPLES, (i) => s.readModel.list(TENANT, filter, { size: 15, before: bound(s, spread(size)(i)) }).then(expectRows(15))),
    },
  ]),
  {
    name: 'deep page of 100, status=active',
    run: (s, size) => time(SAMPLES / 4, (i) => s.readModel.list(TENANT, { status: 'active' }, { size: 100, after: bound(s, spread(size)(i)) }).then(expectRows(100))),
  },
];

const bound = (s: Seeded, n: number): ListBound => {
  const { id, created_at } = s.account(n);
  return { id, created_at, inclusive: false };
};

const expectRows = (count: number) => (page: { rows: unknown[] }) => {
  if (page.rows.length !== count) throw new Error(`expected ${count} rows, got ${page.rows.length}`);
};

export async function run(): Promise<void> {
  const results = new Map<string, { median: number; p99: number }[]>();
  for (const size of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-list-'));
    try {
      const seeded = seed(dir, size);
      console.log(`seeded ${size.toLocaleString('en')} accounts in ${seeded.seconds.toFixed(1)} s (state.sqlite ${seeded.megabytes.toFixed(0)} MB)`);
      for (const measure of MEASURES) {
        const timing = await measure.run(seeded, size);
        results.set(measure.name, [...(results.get(measure.name) ?? []), timing]);
      }
      seeded.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const [small, large] = SIZES.map((n) => n.toLocaleString('en'));
  const rows = [...results].map(([name, [a, b]]) => [name, a.median.toFixed(1), b.median.toFixed(1), (b.median / a.median).toFixed(2), a.p99.toFixed(1), b.p99.toFixed(1)]);
  const header = ['query (read model; pages of 15 unless said)', `median µs @ ${small}`, `median µs @ ${large}`, 'ratio', `p99 µs @ ${small}`, `p99 µs @ ${large}`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);
  const worst = Math.max(...rows.map((r) => Number(r[3])));
  console.log(`\nworst median ratio ${large} / ${small}: ${worst.toFixed(2)}`);
}

if (require.main === module) {
  run().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
