import type Database from 'better-sqlite3';
import { dirname, join } from 'node:path';
import { Tenant } from '../../kernel/tenant';
import {
  AccountFilter,
  AccountReadModel,
  AccountRow,
  LINK_FILTERS,
  ListBound,
  ListPage,
  ListRequest,
  ProjectionLease,
} from '../../accounts/projection/account-read-model.port';
import { Position, START } from '../event-store.port';
import { SqliteDatabase } from './sqlite-database';
import { toPosition } from './sqlite-event-store';
import { SqliteProjectionLease } from './sqlite-projection-lease';

const PROJECTION = 'accounts';
/** Beside the read model's file (in DATA_DIR): see SqliteProjectionLease. */
export const PROJECTION_LOCK_FILE = 'projection.lock';

// One index per combination of list filters: the tenant and the filters' columns by equality, then
// the list's order (created_at, id). A page is then one seek and `size` steps, and a lookup by
// external_id one seek, however many accounts there are.
const INDEXES = {
  accounts_newest: 'organization_id, environment, created_at, id',
  accounts_by_status: 'organization_id, environment, status, created_at, id',
  accounts_by_entity_type: 'organization_id, environment, entity_type, created_at, id',
  accounts_by_status_and_entity_type: 'organization_id, environment, status, entity_type, created_at, id',
  accounts_by_external_id: 'organization_id, environment, external_id',
} as const;

const FILTER_COLUMNS = ['external_id', 'status', 'entity_type'] as const;
const LINK_FILTER_NAMES = Object.keys(LINK_FILTERS) as (keyof typeof LINK_FILTERS)[];

// The accounts' linked sessions and documents, one row per link, so that filter[session] and
// filter[document] are index seeks too: the tenant, the relationship and the id by equality, then
// the list's order. created_at is the account's (immutable), copied here for that order.
const LINKS_TABLE = `
  CREATE TABLE IF NOT EXISTS account_links (
    account_id      TEXT NOT NULL,
    relationship    TEXT NOT NULL,
    related_id      TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment     TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (account_id, relationship, related_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS account_links_lookup ON account_links (organization_id, environment, relationship, related_id, created_at, account_id);`;

/** Named explicitly: without statistics the planner could pick an index that serves the order but not the filter. */
function indexFor(filter: AccountFilter): keyof typeof INDEXES {
  if (filter.external_id !== undefined) return 'accounts_by_external_id';
  if (filter.status !== undefined && filter.entity_type !== undefined) return 'accounts_by_status_and_entity_type';
  if (filter.status !== undefined) return 'accounts_by_status';
  if (filter.entity_type !== undefined) return 'accounts_by_entity_type';
  return 'accounts_newest';
}

/** Toward older accounts the list runs newest first; toward newer ones, from the bound upward. */
type Side = 'older' | 'newer';

/**
 * The SQL of a page (`rows`) or of the question whether any account lies beyond a bound (`exists`).
 * A filter on a linked session or document (without external_id, whose one account is sought
 * directly) walks account_links in the list's order and joins each account by its id.
 */
export function listSql(filter: AccountFilter, side: Side, bound: 'none' | 'exclusive' | 'inclusive', what: 'rows' | 'exists'): string {
  const byLink = filter.external_id === undefined ? LINK_FILTER_NAMES.find((name) => filter[name] !== undefined) : undefined;
  const where: string[] = [];
  let from: string;
  let order: [string, string];
  if (byLink) {
    // CROSS JOIN: SQLite then keeps account_links as the outer loop, walked in its index's order.
    from = 'account_links INDEXED BY account_links_lookup CROSS JOIN accounts ON accounts.id = account_links.account_id';
    where.push(
      'account_links.organization_id = @organization_id',
      'account_links.environment = @environment',
      `account_links.relationship = '${LINK_FILTERS[byLink]}'`,
      `account_links.related_id = @${byLink}`,
    );
    order = ['account_links.created_at', 'account_links.account_id'];
  } else {
    from = `accounts INDEXED BY ${indexFor(filter)}`;
    where.push('accounts.organization_id = @organization_id', 'accounts.environment = @environment');
    order = ['accounts.created_at', 'accounts.id'];
  }
  for (const column of FILTER_COLUMNS) if (filter[column] !== undefined) where.push(`accounts.${column} = @${column}`);
  for (const name of LINK_FILTER_NAMES) {
    if (filter[name] === undefined || name === byLink) continue;
    where.push(`EXISTS (SELECT 1 FROM account_links AS linked WHERE linked.account_id = accounts.id AND linked.relationship = '${LINK_FILTERS[name]}' AND linked.related_id = @${name})`);
  }
  if (bound !== 'none') where.push(`(${order.join(', ')}) ${side === 'older' ? '<' : '>'}${bound === 'inclusive' ? '=' : ''} (@created_at, @id)`);
  const direction = side === 'older' ? 'DESC' : 'ASC';
  return `SELECT ${what === 'rows' ? 'accounts.*' : '1'} FROM ${from} WHERE ${where.join(' AND ')}
    ORDER BY ${order[0]} ${direction}, ${order[1]} ${direction} LIMIT @limit`;
}

interface Row {
  id: string;
  organization_id: string;
  environment: string;
  status: string;
  external_id: string | null;
  entity_type: string;
  sessions: string;
  documents: string;
  created_at: string;
  updated_at: string | null;
  redacted_at: string | null;
  sealed_personal: string | null;
  revision: number;
}

export class SqliteAccountReadModel extends AccountReadModel {
  private readonly statements;
  private readonly commitTransaction;
  private readonly listTransaction;
  private readonly resetTransaction;
  private readonly listStatements = new Map<string, Database.Statement>();

  constructor(private readonly db: SqliteDatabase) {
    super();
    migrateIntegerCheckpoints(db);
    db.exec(`
      CREATE TABLE IF NOT EXISTS projection_checkpoints (
        projection TEXT PRIMARY KEY,
        position   TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS accounts (
        id              TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        environment     TEXT NOT NULL,
        status          TEXT NOT NULL,
        external_id     TEXT,
        entity_type     TEXT NOT NULL,
        sessions        TEXT NOT NULL,
        documents       TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        updated_at      TEXT,
        redacted_at     TEXT,
        sealed_personal TEXT,
        revision        INTEGER NOT NULL
      );`);
    for (const [name, columns] of Object.entries(INDEXES)) db.exec(`CREATE INDEX IF NOT EXISTS ${name} ON accounts (${columns})`);
    if (!db.readonly) createLinksTable(db);
    this.statements = {
      checkpoint: db.prepare<[string], { position: string }>('SELECT position FROM projection_checkpoints WHERE projection = ?'),
      moveCheckpoint: db.prepare(
        `INSERT INTO projection_checkpoints (projection, position) VALUES (@projection, @to)
         ON CONFLICT (projection) DO UPDATE SET position = @to WHERE position = @from`,
      ),
      get: db.prepare<[string, string, string], Row>('SELECT * FROM accounts WHERE id = ? AND organization_id = ? AND environment = ?'),
      upsert: db.prepare(
        `INSERT INTO accounts VALUES (@id, @organization_id, @environment, @status, @external_id, @entity_type, @sessions,
           @documents, @created_at, @updated_at, @redacted_at, @sealed_personal, @revision)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, external_id = excluded.external_id, sessions = excluded.sessions,
           documents = excluded.documents, updated_at = excluded.updated_at, redacted_at = excluded.redacted_at,
           sealed_personal = excluded.sealed_personal, revision = excluded.revision`,
      ),
      ids: db.prepare<[string, number], { id: string }>('SELECT id FROM accounts WHERE id > ? ORDER BY id LIMIT ?'),
      many: db.prepare<[string], Row>('SELECT * FROM accounts WHERE id IN (SELECT value FROM json_each(?))'),
    };
    // Prepared on first use: a read-only open of a file written before account_links existed never needs them.
    let links: { remove: Database.Statement; add: Database.Statement } | null = null;
    const linkStatements = () =>
      (links ??= {
        remove: db.prepare('DELETE FROM account_links WHERE account_id = ?'),
        add: db.prepare(`INSERT INTO account_links (account_id, relationship, related_id, organization_id, environment, created_at)
          VALUES (@account_id, @relationship, @related_id, @organization_id, @environment, @created_at)`),
      });
    // One read transaction: the page and the questions about its neighbours see one snapshot.
    this.listTransaction = db.transaction((tenant: Tenant, filter: AccountFilter, request: ListRequest) => this.readPage(tenant, filter, request));
    this.commitTransaction = db.transaction((rows: AccountRow[], from: Position, to: Position) => {
      if (this.readCheckpoint() !== from) return false;
      this.statements.moveCheckpoint.run({ projection: PROJECTION, from, to });
      for (const row of rows) {
        this.statements.upsert.run(toColumns(row));
        // A row's links are written anew with it: at most 200, and most rows have none.
        const { remove, add } = linkStatements();
        remove.run(row.id);
        for (const relationship of Object.values(LINK_FILTERS)) {
          for (const related_id of row[relationship]) {
            add.run({ account_id: row.id, relationship, related_id, organization_id: row.tenant.organization_id, environment: row.tenant.environment, created_at: row.created_at });
          }
        }
      }
      return true;
    });
    this.resetTransaction = db.transaction(() => {
      db.prepare('DELETE FROM accounts').run();
      db.prepare('DELETE FROM account_links').run();
      db.prepare('DELETE FROM projection_checkpoints WHERE projection = ?').run(PROJECTION);
    });
  }

  async checkpoint(): Promise<Position> {
    return this.readCheckpoint();
  }

  async get(tenant: Tenant, id: string): Promise<AccountRow | null> {
    const row = this.statements.get.get(id, tenant.organization_id, tenant.environment);
    return row ? fromColumns(row) : null;
  }

  async getMany(ids: string[]): Promise<AccountRow[]> {
    if (ids.length === 0) return [];
    // One prepared statement for any number of ids: they come as one JSON array.
    return this.statements.many.all(JSON.stringify(ids)).map(fromColumns);
  }

  async list(tenant: Tenant, filter: AccountFilter, request: ListRequest): Promise<ListPage> {
    return this.listTransaction(tenant, filter, request);
  }

  private readPage(tenant: Tenant, filter: AccountFilter, { size, after, before }: ListRequest): ListPage {
    const base: Record<string, string | number> = { organization_id: tenant.organization_id, environment: tenant.environment };
    for (const name of [...FILTER_COLUMNS, ...LINK_FILTER_NAMES]) if (filter[name] !== undefined) base[name] = filter[name]!;
    const query = (side: Side, bound: ListBound | undefined, limit: number) => {
      const sql = listSql(filter, side, bound ? (bound.inclusive ? 'inclusive' : 'exclusive') : 'none', 'rows');
      return this.statement(sql).all({ ...base, ...(bound && { created_at: bound.created_at, id: bound.id }), limit }) as Row[];
    };
    const beyond = (side: Side, bound: ListBound): ListBound | null => {
      const sql = listSql(filter, side, bound.inclusive ? 'inclusive' : 'exclusive', 'exists');
      return this.statement(sql).get({ ...base, created_at: bound.created_at, id: bound.id, limit: 1 }) ? bound : null;
    };
    const at = (row: Row): ListBound => ({ created_at: row.created_at, id: row.id, inclusive: false });
    // An empty page has no rows to bound its neighbours: they start at its own bound, taken the other way.
    const across = (bound: ListBound): ListBound => ({ ...bound, inclusive: !bound.inclusive });

    if (before) {
      const found = query('newer', before, size + 1);
      const rows = found.slice(0, size).reverse();
      const oldest = rows.at(-1);
      return {
        rows: rows.map(fromColumns),
        newer: found.length > size ? at(rows[0]) : null,
        older: beyond('older', oldest ? at(oldest) : across(before)),
      };
    }
    const found = query('older', after, size + 1);
    const rows = found.slice(0, size);
    return {
      rows: rows.map(fromColumns),
      newer: after ? beyond('newer', rows.length ? at(rows[0]) : across(after)) : null,
      older: found.length > size ? at(rows.at(-1)!) : null,
    };
  }

  private statement(sql: string) {
    let statement = this.listStatements.get(sql);
    if (!statement) this.listStatements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /** A file lock cannot be lost while its process lives, so any lease of this read model still holds. */
  async commit(rows: AccountRow[], from: Position, to: Position): Promise<boolean> {
    return this.commitTransaction.immediate(rows, from, to);
  }

  async tryAcquireProjectionLease(): Promise<ProjectionLease | null> {
    if (this.db.memory || this.db.readonly) throw new Error('Only a read model in a file opened read-write can be projected into');
    return SqliteProjectionLease.tryAcquire(join(dirname(this.db.name), PROJECTION_LOCK_FILE));
  }

  async ids(after: string | null, limit: number): Promise<string[]> {
    // '' sorts before every id.
    return this.statements.ids.all(after ?? '', limit).map((row) => row.id);
  }

  async reset(): Promise<void> {
    this.resetTransaction.immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private readCheckpoint(): Position {
    return this.statements.checkpoint.get(PROJECTION)?.position ?? START;
  }
}

/** Creates account_links; when it is new, fills it from the rows' own lists (a file written before it existed). */
function createLinksTable(db: SqliteDatabase) {
  db.transaction(() => {
    const existed = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account_links'").get() !== undefined;
    db.exec(LINKS_TABLE);
    if (existed) return;
    for (const relationship of Object.values(LINK_FILTERS)) {
      db.prepare(
        `INSERT OR IGNORE INTO account_links (account_id, relationship, related_id, organization_id, environment, created_at)
         SELECT accounts.id, '${relationship}', linked.value, accounts.organization_id, accounts.environment, accounts.created_at
         FROM accounts, json_each(accounts.${relationship}) AS linked`,
      ).run();
    }
  }).immediate();
}

/**
 * Read models written before positions became opaque strings kept the SQLite event store's rowid
 * as an INTEGER: rewrite it once as that store's position string, in one transaction.
 */
function migrateIntegerCheckpoints(db: SqliteDatabase) {
  const column = db.prepare("SELECT type FROM pragma_table_info('projection_checkpoints') WHERE name = 'position'").get() as { type: string } | undefined;
  if (column?.type !== 'INTEGER') return;
  db.transaction(() => {
    const rows = db.prepare('SELECT projection, position FROM projection_checkpoints').all() as { projection: string; position: number }[];
    db.exec('DROP TABLE projection_checkpoints; CREATE TABLE projection_checkpoints (projection TEXT PRIMARY KEY, position TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO projection_checkpoints (projection, position) VALUES (?, ?)');
    for (const row of rows) insert.run(row.projection, row.position === 0 ? START : toPosition(row.position));
  }).immediate();
}

function toColumns(row: AccountRow): Row {
  return {
    id: row.id,
    organization_id: row.tenant.organization_id,
    environment: row.tenant.environment,
    status: row.status,
    external_id: row.external_id,
    entity_type: row.entity_type,
    sessions: JSON.stringify(row.sessions),
    documents: JSON.stringify(row.documents),
    created_at: row.created_at,
    updated_at: row.updated_at,
    redacted_at: row.redacted_at,
    sealed_personal: row.sealed_personal,
    revision: Number(row.revision),
  };
}

function fromColumns(row: Row): AccountRow {
  return {
    id: row.id,
    tenant: { organization_id: row.organization_id, environment: row.environment as Tenant['environment'] },
    status: row.status as AccountRow['status'],
    external_id: row.external_id,
    entity_type: row.entity_type as AccountRow['entity_type'],
    sessions: JSON.parse(row.sessions),
    documents: JSON.parse(row.documents),
    created_at: row.created_at,
    updated_at: row.updated_at,
    redacted_at: row.redacted_at,
    sealed_personal: row.sealed_personal,
    revision: BigInt(row.revision),
  };
}
