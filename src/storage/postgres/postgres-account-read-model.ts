import { Pool, PoolClient } from 'pg';
import {
  AccountFilter,
  AccountReadModel,
  AccountRow,
  LINK_FILTERS,
  ListBound,
  ListPage,
  ListRequest,
  ProjectionLease,
  ProjectionLeaseLost,
} from '../../accounts/projection/account-read-model.port';
import { Tenant } from '../../kernel/tenant';
import { Position, START } from '../event-store.port';
import { inTransaction, inTransactionOn } from './postgres-pool';
import { PostgresProjectionLease } from './postgres-projection-lease';

const PROJECTION = 'accounts';
const FILTER_COLUMNS = ['external_id', 'status', 'entity_type'] as const;
const LINK_FILTER_NAMES = Object.keys(LINK_FILTERS) as (keyof typeof LINK_FILTERS)[];
const ROW_COLUMNS = [
  'id', 'organization_id', 'environment', 'status', 'external_id', 'entity_type', 'sessions',
  'documents', 'created_at', 'updated_at', 'redacted_at', 'sealed_personal', 'revision',
] as const;
/** Rows per INSERT: 13 parameters each stays well below PostgreSQL's 65,535 per statement. */
const ROWS_PER_STATEMENT = 1000;

/** Toward older accounts the list runs newest first; toward newer ones, from the bound upward. */
type Side = 'older' | 'newer';

export interface ListQuery {
  text: string;
  values: unknown[];
}

/**
 * The SQL of a page (`rows`) or of the question whether any account lies beyond a bound (`exists`).
 * Equality on the tenant and the filters, then a row comparison on (created_at, id) in the index's
 * order: the planner answers it from the filter combination's index (migration 2) without a sort.
 * A filter on a linked session or document (without external_id, whose one account is sought
 * directly) walks account_links (migration 6) in the list's order and joins each account by id.
 */
export function listQuery(
  tenant: Tenant,
  filter: AccountFilter,
  side: Side,
  bound: ListBound | undefined,
  what: 'rows' | 'exists',
  limit: number,
): ListQuery {
  const byLink = filter.external_id === undefined ? LINK_FILTER_NAMES.find((name) => filter[name] !== undefined) : undefined;
  const values: unknown[] = [tenant.organization_id, tenant.environment];
  const parameter = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const where: string[] = [];
  let from: string;
  let order: [string, string];
  if (byLink) {
    from = 'account_links JOIN accounts ON accounts.id = account_links.account_id';
    where.push('account_links.organization_id = $1', 'account_links.environment = $2', `account_links.relationship = ${parameter(LINK_FILTERS[byLink])}`, `account_links.related_id = ${parameter(filter[byLink])}`);
    order = ['account_links.created_at', 'account_links.account_id'];
  } else {
    from = 'accounts';
    where.push('accounts.organization_id = $1', 'accounts.environment = $2');
    order = ['accounts.created_at', 'accounts.id'];
  }
  for (const column of FILTER_COLUMNS) if (filter[column] !== undefined) where.push(`accounts.${column} = ${parameter(filter[column])}`);
  for (const name of LINK_FILTER_NAMES) {
    if (filter[name] === undefined || name === byLink) continue;
    where.push(
      `EXISTS (SELECT 1 FROM account_links AS linked WHERE linked.account_id = accounts.id AND linked.relationship = ${parameter(LINK_FILTERS[name])} AND linked.related_id = ${parameter(filter[name])})`,
    );
  }
  if (bound) {
    const createdAt = parameter(bound.created_at);
    const id = parameter(bound.id);
    where.push(`(${order.join(', ')}) ${side === 'older' ? '<' : '>'}${bound.inclusive ? '=' : ''} (${createdAt}, ${id})`);
  }
  const direction = side === 'older' ? 'DESC' : 'ASC';
  return {
    text: `SELECT ${what === 'rows' ? 'accounts.*' : '1'} FROM ${from} WHERE ${where.join(' AND ')}
      ORDER BY ${order[0]} ${direction}, ${order[1]} ${direction} LIMIT ${parameter(limit)}`,
    values,
  };
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
  /** bigint: pg hands it over as a string. */
  revision: string;
}

/** The account read model on PostgreSQL: the same semantics as SqliteAccountReadModel. */
export class PostgresAccountReadModel extends AccountReadModel {
  constructor(private readonly pool: Pool) {
    super();
  }

  async ids(after: string | null, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM accounts WHERE id > $1 ORDER BY id LIMIT $2', [after ?? '', limit]);
    return rows.map((row) => row.id);
  }

  async reset(): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM accounts');
      await client.query('DELETE FROM account_links');
      await client.query('DELETE FROM projection_checkpoints WHERE projection = $1', [PROJECTION]);
    });
  }

  /** The pool belongs to whoever made it (PostgresStorage). */
  async close(): Promise<void> {}

  async checkpoint(): Promise<Position> {
    const { rows } = await this.pool.query<{ position: string }>({ name: 'read-model-checkpoint', text: 'SELECT position FROM projection_checkpoints WHERE projection = $1', values: [PROJECTION] });
    return rows[0]?.position ?? START;
  }

  async get(tenant: Tenant, id: string): Promise<AccountRow | null> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM accounts WHERE id = $1 AND organization_id = $2 AND environment = $3', [
      id,
      tenant.organization_id,
      tenant.environment,
    ]);
    return rows[0] ? fromColumns(rows[0]) : null;
  }

  async getMany(ids: string[]): Promise<AccountRow[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<Row>('SELECT * FROM accounts WHERE id = ANY($1::text[])', [ids]);
    return rows.map(fromColumns);
  }

  async list(tenant: Tenant, filter: AccountFilter, request: ListRequest): Promise<ListPage> {
    // One snapshot for the page and the questions about its neighbours.
    return inTransaction(this.pool, (client) => readPage(client, tenant, filter, request), { isolation: 'REPEATABLE READ', readOnly: true });
  }

  /**
   * Under a lease, on the lease's own session: the commit can only succeed while that session, and
   * so the advisory lock, is alive. A holder that lost its lease cannot write once another holds it.
   */
  async commit(rows: AccountRow[], from: Position, to: Position, lease?: ProjectionLease): Promise<boolean> {
    const write = (client: PoolClient) => this.commitOn(client, rows, from, to);
    if (!lease) return inTransaction(this.pool, write);
    if (!(lease instanceof PostgresProjectionLease)) throw new TypeError('A PostgreSQL read model commits only under its own projection lease');
    if (lease.lost.aborted) throw new ProjectionLeaseLost();
    return inTransactionOn(lease.client, write, { onBroken: () => lease.markLost() });
  }

  async tryAcquireProjectionLease(): Promise<ProjectionLease | null> {
    return PostgresProjectionLease.tryAcquire(this.pool);
  }

  private async commitOn(client: PoolClient, rows: AccountRow[], from: Position, to: Position): Promise<boolean> {
    // Compare-and-set: the row lock makes a second committer from the same `from` wait, then see
    // the moved checkpoint and match nothing.
    const moved = await client.query({ name: 'read-model-move-checkpoint', text: 'UPDATE projection_checkpoints SET position = $3 WHERE projection = $1 AND position = $2', values: [PROJECTION, from, to] });
    if (moved.rowCount === 0) {
      if (from !== START) return false;
      const first = await client.query('INSERT INTO projection_checkpoints (projection, position) VALUES ($1, $2) ON CONFLICT DO NOTHING', [PROJECTION, to]);
      if (first.rowCount === 0) return false;
    }
    // One row per account: a statement's ON CONFLICT cannot update the same row twice.
    const latest = [...new Map(rows.map((row) => [row.id, row])).values()];
    for (let i = 0; i < latest.length; i += ROWS_PER_STATEMENT) await upsert(client, latest.slice(i, i + ROWS_PER_STATEMENT));
    await replaceLinks(client, latest);
    return true;
  }
}

async function readPage(client: PoolClient, tenant: Tenant, filter: AccountFilter, { size, after, before }: ListRequest): Promise<ListPage> {
  const query = async (side: Side, bound: ListBound | undefined, limit: number) =>
    (await client.query<Row>(listQuery(tenant, filter, side, bound, 'rows', limit))).rows;
  const beyond = async (side: Side, bound: ListBound): Promise<ListBound | null> =>
    (await client.query(listQuery(tenant, filter, side, bound, 'exists', 1))).rowCount ? bound : null;
  const at = (row: Row): ListBound => ({ created_at: row.created_at, id: row.id, inclusive: false });
  // An empty page has no rows to bound its neighbours: they start at its own bound, taken the other way.
  const across = (bound: ListBound): ListBound => ({ ...bound, inclusive: !bound.inclusive });

  if (before) {
    const found = await query('newer', before, size + 1);
    const rows = found.slice(0, size).reverse();
    const oldest = rows.at(-1);
    return {
      rows: rows.map(fromColumns),
      newer: found.length > size ? at(rows[0]) : null,
      older: await beyond('older', oldest ? at(oldest) : across(before)),
    };
  }
  const found = await query('older', after, size + 1);
  const rows = found.slice(0, size);
  return {
    rows: rows.map(fromColumns),
    newer: after ? await beyond('newer', rows.length ? at(rows[0]) : across(after)) : null,
    older: found.length > size ? at(rows.at(-1)!) : null,
  };
}

async function upsert(client: PoolClient, rows: AccountRow[]): Promise<void> {
  if (rows.length === 0) return;
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const columns = toColumns(row);
    const start = values.length;
    for (const name of ROW_COLUMNS) values.push(columns[name]);
    return `(${ROW_COLUMNS.map((_, i) => `$${start + i + 1}`).join(', ')})`;
  });
  await client.query(
    `INSERT INTO accounts (${ROW_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, external_id = excluded.external_id, sessions = excluded.sessions,
       documents = excluded.documents, updated_at = excluded.updated_at, redacted_at = excluded.redacted_at,
       sealed_personal = excluded.sealed_personal, revision = excluded.revision`,
    values,
  );
}

const LINK_COLUMNS = ['account_id', 'relationship', 'related_id', 'organization_id', 'environment', 'created_at'] as const;

/** The rows' links written anew: at most 200 a row, and most rows have none. */
async function replaceLinks(client: PoolClient, rows: AccountRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query('DELETE FROM account_links WHERE account_id = ANY($1::text[])', [rows.map((row) => row.id)]);
  const links = rows.flatMap((row) =>
    Object.values(LINK_FILTERS).flatMap((relationship) =>
      row[relationship].map((related_id) => [row.id, relationship, related_id, row.tenant.organization_id, row.tenant.environment, row.created_at]),
    ),
  );
  // 6 parameters a link: 10,000 of them stay well below PostgreSQL's 65,535 per statement.
  for (let i = 0; i < links.length; i += 10_000) {
    const chunk = links.slice(i, i + 10_000);
    const tuples = chunk.map((_, n) => `(${LINK_COLUMNS.map((__, c) => `$${n * LINK_COLUMNS.length + c + 1}`).join(', ')})`);
    await client.query(`INSERT INTO account_links (${LINK_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, chunk.flat());
  }
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
    revision: row.revision.toString(),
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
