import { Tenant } from '../../kernel/tenant';
import { AccountReadModel, AccountRow } from '../../accounts/projection/account-read-model.port';
import { SqliteDatabase } from './sqlite-database';

const PROJECTION = 'accounts';

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

  constructor(private readonly db: SqliteDatabase) {
    super();
    db.exec(`
      CREATE TABLE IF NOT EXISTS projection_checkpoints (
        projection TEXT PRIMARY KEY,
        position   INTEGER NOT NULL
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
    this.statements = {
      checkpoint: db.prepare<[string], { position: number }>('SELECT position FROM projection_checkpoints WHERE projection = ?'),
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
    };
    this.commitTransaction = db.transaction((rows: AccountRow[], from: bigint, to: bigint) => {
      if (this.readCheckpoint() !== from) return false;
      this.statements.moveCheckpoint.run({ projection: PROJECTION, from: Number(from), to: Number(to) });
      for (const row of rows) this.statements.upsert.run(toColumns(row));
      return true;
    });
  }

  async checkpoint(): Promise<bigint> {
    return this.readCheckpoint();
  }

  async get(tenant: Tenant, id: string): Promise<AccountRow | null> {
    const row = this.statements.get.get(id, tenant.organization_id, tenant.environment);
    return row ? fromColumns(row) : null;
  }

  async getMany(ids: string[]): Promise<AccountRow[]> {
    if (ids.length === 0) return [];
    const rows = this.db.prepare<string[], Row>(`SELECT * FROM accounts WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids);
    return rows.map(fromColumns);
  }

  async commit(rows: AccountRow[], from: bigint, to: bigint): Promise<boolean> {
    return this.commitTransaction.immediate(rows, from, to);
  }

  private readCheckpoint(): bigint {
    return BigInt(this.statements.checkpoint.get(PROJECTION)?.position ?? 0);
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
