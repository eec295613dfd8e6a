import { join } from 'node:path';
import { Pool } from 'pg';
import { AccountFilter, ListBound, ProjectionLeaseLost } from '../../src/accounts/projection/account-read-model.port';
import { START } from '../../src/storage/event-store.port';
import { LOCK_CLASS, LOCKS } from '../../src/storage/postgres/advisory-locks';
import { listQuery, PostgresAccountReadModel } from '../../src/storage/postgres/postgres-account-read-model';
import { describePostgres, migratedPool } from '../support/postgres';
import { accountReadModelContract, acquireWithin, DOCUMENT, position, row, SESSION, TENANT } from './account-read-model.contract';

describePostgres('PostgreSQL account read model', (database) => {
  accountReadModelContract('PostgreSQL', async () => {
    const pools: Pool[] = [];
    const open = async () => {
      const pool = await migratedPool(database.url);
      pools.push(pool);
      return pool;
    };
    // The suite's database is shared by its tests: each starts from an empty read model.
    await (await open()).query('TRUNCATE accounts, projection_checkpoints');
    return {
      open: async () => new PostgresAccountReadModel(await open()),
      inChildProcess: { module: join(__dirname, '../support/postgres.ts'), factory: 'openPostgresAccountReadModel', argument: database.url },
      dispose: async () => {
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  });

  describe('projection lease: a session-level advisory lock', () => {
    const pools: Pool[] = [];
    const newPool = async () => {
      const pool = await migratedPool(database.url, 3);
      pools.push(pool);
      return pool;
    };
    /** A read model on a pool of its own: one service instance's. */
    const instance = async () => new PostgresAccountReadModel(await newPool());
    /** Not an instance: how the test looks at and acts on the server. */
    let admin: Pool;
    beforeEach(async () => {
      admin = await newPool();
      await admin.query('TRUNCATE accounts, projection_checkpoints');
    });
    afterEach(async () => {
      await Promise.all(pools.splice(0).map((pool) => pool.end()));
    });

    /** The backend (pid) of the session holding the lease, as the server sees it (advisory locks of other databases on the server left out). */
    const holderPids = async () =>
      (
        await admin.query<{ pid: number }>(
          "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
          [LOCK_CLASS, LOCKS.accountsProjection],
        )
      ).rows.map((r) => r.pid);

    it('is lost with its session: the holder can no longer commit, and the next instance takes it within seconds', async () => {
      const [first, second] = [await instance(), await instance()];
      const lease = (await first.tryAcquireProjectionLease())!;
      expect(lease).not.toBeNull();
      expect(await second.tryAcquireProjectionLease()).toBeNull();
      expect(await first.commit([row(1)], START, position(1), lease)).toBe(true);

      // The session ends under the holder (a network cut, an operator, the server restarting).
      const [pid] = await holderPids();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // At once, before the holder may have heard of it: its next batch must not land.
      await expect(first.commit([row(1, { status: 'active', revision: 1n })], position(1), position(2), lease)).rejects.toThrow();
      const next = await acquireWithin(second, 3000);
      expect(next).not.toBeNull();
      expect(lease.lost.aborted).toBe(true);
      await expect(first.commit([row(1, { status: 'suspended', revision: 1n })], position(1), position(2), lease)).rejects.toThrow(ProjectionLeaseLost);

      expect(await second.checkpoint()).toBe(position(1));
      expect((await second.get(TENANT, row(1).id))!.status).toBe('pending');
      expect(await second.commit([row(1, { status: 'active', revision: 1n })], position(1), position(2), next!)).toBe(true);
      await lease.release();
      await next!.release();
      expect(await holderPids()).toEqual([]);
    });
  });

  describe('list query plans', () => {
    let pool: Pool;
    const BIG_TENANT = { organization_id: 'org-big', environment: 'production' as const };

    beforeAll(async () => {
      pool = await migratedPool(database.url);
      await pool.query('TRUNCATE accounts, projection_checkpoints');
      // Enough accounts, in several tenants, statuses and entity types, that the planner's
      // statistics reflect a real store: a page must then come from an index, in its order.
      const statuses = ['pending', 'active', 'inactive', 'suspended'] as const;
      const pick = seeded(42);
      const rows = Array.from({ length: 6000 }, (_, n) =>
        row(n, {
          id: `acc_01HQ${String(n).padStart(22, '0')}`,
          // Most in one tenant, the one the plans are asked for: a big tenant is where a page must not sort.
          tenant: pick() < 0.8 ? BIG_TENANT : { organization_id: `org-${Math.floor(pick() * 4)}`, environment: 'staging' },
          status: statuses[Math.floor(pick() * 4)],
          entity_type: pick() < 0.7 ? 'person' : 'business',
          created_at: `2026-01-${String(1 + Math.floor(pick() * 28)).padStart(2, '0')}T00:00:${String(Math.floor(pick() * 60)).padStart(2, '0')}Z`,
          // Most accounts link a session or two and a document; one document is linked by many.
          sessions: [SESSION(n), ...(pick() < 0.3 ? [SESSION(n + 100_000)] : [])],
          documents: pick() < 0.5 ? [DOCUMENT(n)] : pick() < 0.2 ? [DOCUMENT(0)] : [],
        }),
      );
      await new PostgresAccountReadModel(pool).commit(rows, START, position(1));
      await pool.query('ANALYZE accounts');
      await pool.query('ANALYZE account_links');
    });
    afterAll(() => pool.end());

    interface PlanNode {
      'Node Type': string;
      'Index Name'?: string;
      Plans?: PlanNode[];
    }
    const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
    const INDEX_FOR: [AccountFilter, string][] = [
      [{}, 'accounts_newest'],
      [{ status: 'active' }, 'accounts_by_status'],
      [{ entity_type: 'business' }, 'accounts_by_entity_type'],
      [{ status: 'active', entity_type: 'business' }, 'accounts_by_status_and_entity_type'],
      [{ external_id: 'user-5' }, 'accounts_by_external_id'],
      [{ external_id: 'user-5', status: 'active' }, 'accounts_by_external_id'],
      // A linked session or document: account_links in the list's order, then each account by its key.
      [{ session: SESSION(5) }, 'account_links_lookup'],
      [{ document: DOCUMENT(0) }, 'account_links_lookup'],
      [{ document: DOCUMENT(8), status: 'active' }, 'account_links_lookup'],
      [{ document: DOCUMENT(8), session: SESSION(5) }, 'account_links_lookup'],
    ];
    const bound: ListBound = { created_at: '2026-01-14T00:00:30Z', id: 'acc_01HQ0000000000000000003000', inclusive: false };

    it.each(INDEX_FOR.map(([filter, index]) => [JSON.stringify(filter), filter, index] as const))(
      'answers a page for %s from its index, in the index order',
      async (_, filter, index) => {
        for (const side of ['older', 'newer'] as const) {
          for (const at of [undefined, bound, { ...bound, inclusive: true }]) {
            for (const what of ['rows', 'exists'] as const) {
              const query = listQuery(BIG_TENANT, filter, side, at, what, what === 'rows' ? 26 : 1);
              const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({ text: `EXPLAIN (FORMAT JSON) ${query.text}`, values: query.values });
              const plan = nodes(rows[0]['QUERY PLAN'][0].Plan);
              const scans = plan.filter((node) => /Scan/.test(node['Node Type'])).map((node) => [node['Node Type'].replace(' Only', ''), node['Index Name']]);
              if (index === 'account_links_lookup') {
                // The links first, then the account (and any other link) by primary key: index probes only.
                expect(scans[0]).toEqual(['Index Scan', index]);
                expect(scans.slice(1).every(([type, name]) => type === 'Index Scan' && /_pkey$/.test(name ?? ''))).toBe(true);
              } else expect(scans).toEqual([['Index Scan', index]]);
              // A lookup by external_id finds at most a handful of rows and may sort them; a page of a list must not.
              if (filter.external_id === undefined) expect(plan.map((node) => node['Node Type'])).not.toContain('Sort');
            }
          }
        }
      },
    );
  });
});

/** Deterministic numbers in [0, 1) (mulberry32): the same data, so the same plans, on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
