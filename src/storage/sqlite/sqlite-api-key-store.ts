import { ApiKeyRecord } from '../../auth/api-key';
import { ApiKeyStore } from '../../auth/api-key-store.port';
import { SqliteDatabase } from './sqlite-database';

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

export class SqliteApiKeyStore extends ApiKeyStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    super();
    db.exec(`
      CREATE TABLE IF NOT EXISTS api_keys (
        id              TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        environment     TEXT NOT NULL,
        scopes          TEXT NOT NULL,
        hint            TEXT NOT NULL,
        hash            TEXT NOT NULL UNIQUE,
        created_at      TEXT NOT NULL,
        revoked_at      TEXT
      )`);
    if (!db.readonly) {
      // The generation ApiKeys validates its cache with: triggers count every change to api_keys,
      // whichever process or build makes it, in the transaction that makes it.
      db.exec(`
        CREATE TABLE IF NOT EXISTS api_key_generation (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
        INSERT OR IGNORE INTO api_key_generation VALUES (1, 0);
        CREATE TRIGGER IF NOT EXISTS api_keys_inserted AFTER INSERT ON api_keys BEGIN UPDATE api_key_generation SET n = n + 1; END;
        CREATE TRIGGER IF NOT EXISTS api_keys_updated AFTER UPDATE ON api_keys BEGIN UPDATE api_key_generation SET n = n + 1; END;
        CREATE TRIGGER IF NOT EXISTS api_keys_deleted AFTER DELETE ON api_keys BEGIN UPDATE api_key_generation SET n = n + 1; END;`);
    }
    const hasGeneration = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_key_generation'").get();
    this.statements = {
      insert: db.prepare(
        // A key already stored stays as it is: two instances may add the same bootstrap key at once.
        'INSERT INTO api_keys VALUES (@id, @organization_id, @environment, @scopes, @hint, @hash, @created_at, @revoked_at) ON CONFLICT (hash) DO NOTHING',
      ),
      byHash: db.prepare<[string], Row>('SELECT * FROM api_keys WHERE hash = ?'),
      list: db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id'),
      revoke: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM api_keys'),
      // A file opened read-only that an older build wrote has no generation: NaN never equals itself,
      // so nothing is ever served from the cache.
      generation: hasGeneration ? db.prepare<[], number>('SELECT n FROM api_key_generation WHERE id = 1').pluck() : null,
    };
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    this.statements.insert.run({
      id: record.id,
      organization_id: record.tenant.organization_id,
      environment: record.tenant.environment,
      scopes: JSON.stringify(record.scopes),
      hint: record.hint,
      hash: record.hash,
      created_at: record.created_at,
      revoked_at: record.revoked_at,
    });
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | null> {
    const row = this.statements.byHash.get(hash);
    return row ? fromRow(row) : null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.statements.list.all().map(fromRow);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    return this.statements.revoke.run(at, id).changes > 0;
  }

  async count(): Promise<number> {
    return this.statements.count.get()!.n;
  }

  async generation(): Promise<number> {
    return this.statements.generation ? this.statements.generation.get()! : NaN;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
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
