import Database from 'better-sqlite3';
import { AccountFilter } from '../../src/accounts/projection/account-read-model.port';
import { listSql, SqliteAccountReadModel } from '../../src/storage/sqlite/sqlite-account-read-model';
import { toPosition } from '../../src/storage/sqlite/sqlite-event-store';

// The list's behaviour is in the contract (account-read-model.contract.ts); here, how SQLite answers it.
describe('SQLite account read model: list query plans', () => {
  let db: Database.Database;

  beforeEach(() => {
    db = new Database(':memory:');
    new SqliteAccountReadModel(db);
  });
  afterEach(() => db.close());

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

  // A lookup by a linked session or document walks account_links in the list's order and joins each
  // account by its id; another link filter is one primary-key probe per account.
  const LINK_FILTERS: AccountFilter[] = [
    { session: 's' }, { document: 'd' }, { session: 's', status: 'active', entity_type: 'person' }, { session: 's', document: 'd' },
  ];
  it.each(LINK_FILTERS.map((f) => [JSON.stringify(f), f]))('seeks account_links for %s, then each account by id', (_, filter) => {
    for (const side of ['older', 'newer'] as const) {
      for (const bound of ['none', 'exclusive', 'inclusive'] as const) {
        for (const what of ['rows', 'exists'] as const) {
          const sql = listSql(filter, side, bound, what);
          const params = { organization_id: 'a', environment: 'b', status: 'active', entity_type: 'person', session: 's', document: 'd', created_at: 'c', id: 'i', limit: 1 };
          const used = Object.fromEntries(Object.entries(params).filter(([name]) => sql.includes(`@${name}`)));
          const details = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(used) as { detail: string }[]).map((p) => p.detail);
          expect(details[0]).toMatch(/^SEARCH account_links USING (COVERING )?INDEX account_links_lookup \(organization_id=\? AND environment=\? AND relationship=\? AND related_id=\?/);
          expect(details[1]).toMatch(/^SEARCH accounts USING (COVERING )?INDEX sqlite_autoindex_accounts_1 \(id=\?\)$/);
          if (filter.session && filter.document) expect(details[2]).toMatch(/^SEARCH linked EXISTS USING PRIMARY KEY/);
          expect(details.join('\n')).not.toMatch(/TEMP B-TREE|SCAN/);
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
