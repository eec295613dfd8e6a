import Database from 'better-sqlite3';
import { AccountFilter, AccountRow, ListBound } from '../../src/accounts/projection/account-read-model.port';
import { listSql, SqliteAccountReadModel } from '../../src/storage/sqlite/sqlite-account-read-model';
import { START } from '../../src/storage/event-store.port';
import { toPosition } from '../../src/storage/sqlite/sqlite-event-store';

const TENANT = { organization_id: 'acme', environment: 'staging' as const };
const OTHER = { organization_id: 'other', environment: 'staging' as const };

const row = (n: number, overrides: Partial<AccountRow> = {}): AccountRow => ({
  id: `acc_01HQ0000000000000000000${String(n).padStart(3, '0')}`,
  tenant: TENANT,
  status: 'pending',
  external_id: `user-${n}`,
  entity_type: 'person',
  sessions: [],
  documents: [],
  // Whole seconds, as created_at is: several accounts share one, and the id orders them.
  created_at: `2026-01-01T00:00:${String(Math.floor(n / 3)).padStart(2, '0')}Z`,
  updated_at: null,
  redacted_at: null,
  sealed_personal: null,
  revision: 0n,
  ...overrides,
});

describe('SQLite account read model: list', () => {
  let db: Database.Database;
  let readModel: SqliteAccountReadModel;
  /** Newest first. */
  let ids: string[];

  beforeEach(async () => {
    db = new Database(':memory:');
    readModel = new SqliteAccountReadModel(db);
    const rows = Array.from({ length: 10 }, (_, n) => row(n, { status: n % 2 ? 'active' : 'pending' }));
    await readModel.commit([...rows, row(50, { tenant: OTHER, external_id: 'user-1' })], START, toPosition(1));
    ids = rows.map((r) => r.id).reverse();
  });
  afterEach(() => db.close());

  const at = (id: string, inclusive = false): ListBound => {
    const n = Number(id.slice(-3));
    return { created_at: row(n).created_at, id, inclusive };
  };
  const page = async (filter: AccountFilter, request: Parameters<SqliteAccountReadModel['list']>[2]) => {
    const result = await readModel.list(TENANT, filter, request);
    return { ids: result.rows.map((r) => r.id), newer: result.newer, older: result.older };
  };

  it('pages newest first, with the bounds of the neighbouring pages', async () => {
    expect(await page({}, { size: 4 })).toEqual({ ids: ids.slice(0, 4), newer: null, older: at(ids[3]) });
    expect(await page({}, { size: 4, after: at(ids[3]) })).toEqual({ ids: ids.slice(4, 8), newer: at(ids[4]), older: at(ids[7]) });
    expect(await page({}, { size: 4, after: at(ids[7]) })).toEqual({ ids: ids.slice(8), newer: at(ids[8]), older: null });
    expect(await page({}, { size: 4, before: at(ids[8]) })).toEqual({ ids: ids.slice(4, 8), newer: at(ids[4]), older: at(ids[7]) });
    expect(await page({}, { size: 4, before: at(ids[2]) })).toEqual({ ids: ids.slice(0, 2), newer: null, older: at(ids[1]) });
  });

  it('leads from an empty page back to its own bound, taken the other way', async () => {
    expect(await page({}, { size: 3, after: at(ids[9]) })).toEqual({ ids: [], newer: at(ids[9], true), older: null });
    expect(await page({}, { size: 3, before: at(ids[9], true) })).toEqual({ ids: ids.slice(7), newer: at(ids[7]), older: null });
    expect(await page({}, { size: 3, before: at(ids[0]) })).toEqual({ ids: [], newer: null, older: at(ids[0], true) });
    expect(await page({}, { size: 3, after: at(ids[0], true) })).toEqual({ ids: ids.slice(0, 3), newer: null, older: at(ids[2]) });
  });

  it('filters within the tenant only', async () => {
    expect((await page({ status: 'active' }, { size: 100 })).ids).toEqual(ids.filter((id) => Number(id.slice(-3)) % 2 === 1));
    expect((await page({ external_id: 'user-1' }, { size: 100 })).ids).toEqual([row(1).id]);
    expect((await readModel.list(OTHER, { external_id: 'user-1' }, { size: 100 })).rows.map((r) => r.id)).toEqual([row(50).id]);
    expect((await page({ external_id: 'user-1', status: 'pending' }, { size: 100 })).ids).toEqual([]);
  });

  // The cost of a page must not grow with the number of accounts: every query is an index seek on
  // the tenant and the filters, walking the index in the list's order (no scan, no sort).
  const FILTERS: AccountFilter[] = [
    {}, { status: 'active' }, { entity_type: 'business' }, { status: 'active', entity_type: 'business' },
    { external_id: 'u' }, { external_id: 'u', status: 'active' }, { external_id: 'u', status: 'active', entity_type: 'person' },
  ];
  it.each(FILTERS.map((f) => [JSON.stringify(f), f]))('seeks an index for %s', (_, filter) => {
    for (const side of ['older', 'newer'] as const) {
      for (const bound of ['none', 'exclusive', 'inclusive'] as const) {
        for (const what of ['rows', 'exists'] as const) {
          const params = { organization_id: 'a', environment: 'b', external_id: 'u', status: 'active', entity_type: 'person', created_at: 'c', id: 'i', limit: 1 };
          const used = Object.fromEntries(Object.entries(params).filter(([name]) => listSql(filter, side, bound, what).includes(`@${name}`)));
          const plan = db.prepare(`EXPLAIN QUERY PLAN ${listSql(filter, side, bound, what)}`).all(used) as { detail: string }[];
          const details = plan.map((p) => p.detail);
          expect(details[0]).toMatch(/^SEARCH accounts USING (COVERING )?INDEX accounts_\w+ \(organization_id=\? AND environment=\?/);
          // A lookup by external_id seeks the one account and checks the other filters on it; it alone may sort.
          const sought = filter.external_id === undefined ? Object.keys(filter) : ['external_id'];
          for (const column of sought) expect(details[0]).toContain(`${column}=?`);
          if (filter.external_id === undefined) expect(details).toHaveLength(1);
        }
      }
    }
  });
});

describe('SQLite account read model: checkpoints of files written before positions were strings', () => {
  it('reads an INTEGER checkpoint as the SQLite event store position it was, and goes on from there', async () => {
    const db = new Database(':memory:');
    db.exec("CREATE TABLE projection_checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL); INSERT INTO projection_checkpoints VALUES ('accounts', 54)");
    const readModel = new SqliteAccountReadModel(db);
    expect(await readModel.checkpoint()).toBe(toPosition(54));
    expect(await readModel.commit([], toPosition(54), toPosition(60))).toBe(true);
    expect(await readModel.checkpoint()).toBe('00000000000000000060');
    db.close();
  });
});
