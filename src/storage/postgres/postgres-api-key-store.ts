import { Pool } from 'pg';
import { ApiKeyRecord } from '../../auth/api-key';
import { ApiKeyStore } from '../../auth/api-key-store.port';

interface Row {
  id: string;
  organization_id: string;
  environment: string;
  scopes: string;
  hint: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

/** API keys (their hashes only) on PostgreSQL, in the `api_keys` table (migration 4). */
export class PostgresApiKeyStore extends ApiKeyStore {
  constructor(private readonly pool: Pool) {
    super();
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    // A key already stored stays as it is: two instances may add the same bootstrap key at once.
    await this.pool.query(
      `INSERT INTO api_keys (id, organization_id, environment, scopes, hint, hash, created_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (hash) DO NOTHING`,
      [
        record.id,
        record.tenant.organization_id,
        record.tenant.environment,
        JSON.stringify(record.scopes),
        record.hint,
        record.hash,
        record.created_at,
        record.revoked_at,
      ],
    );
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM api_keys WHERE hash = $1', [hash]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM api_keys ORDER BY created_at, id');
    return rows.map(fromRow);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const result = await this.pool.query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
    return (result.rowCount ?? 0) > 0;
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM api_keys');
    return Number(rows[0].n);
  }

  async generation(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>({ name: 'api-key-generation', text: 'SELECT n FROM api_key_generation WHERE id = 1' });
    return Number(rows[0].n);
  }

  /** The pool belongs to whoever made it (PostgresStorage). */
  async close(): Promise<void> {}
}

function fromRow(row: Row): ApiKeyRecord {
  return {
    id: row.id,
    tenant: { organization_id: row.organization_id, environment: row.environment as ApiKeyRecord['tenant']['environment'] },
    scopes: JSON.parse(row.scopes),
    hint: row.hint,
    hash: row.hash,
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}
