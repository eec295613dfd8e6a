import { DataKeyStore } from '../../crypto/data-key-store.port';
import { SqliteDatabase } from './sqlite-database';

export class SqliteDataKeyStore extends DataKeyStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    super();
    db.exec(`CREATE TABLE IF NOT EXISTS data_keys (account_id TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL)`);
    this.statements = {
      get: db.prepare<[string], { wrapped_key: Buffer }>('SELECT wrapped_key FROM data_keys WHERE account_id = ?'),
      insert: db.prepare('INSERT OR IGNORE INTO data_keys (account_id, wrapped_key) VALUES (?, ?)'),
      // secure_delete (set when the file is opened) overwrites the deleted key's bytes.
      destroy: db.prepare('DELETE FROM data_keys WHERE account_id = ?'),
    };
  }

  async get(accountId: string): Promise<Buffer | null> {
    return this.statements.get.get(accountId)?.wrapped_key ?? null;
  }

  async putIfAbsent(accountId: string, wrappedKey: Buffer): Promise<Buffer> {
    this.statements.insert.run(accountId, wrappedKey);
    return this.statements.get.get(accountId)!.wrapped_key;
  }

  async destroy(accountId: string): Promise<void> {
    if (this.statements.destroy.run(accountId).changes === 0) return;
    // The WAL still holds the page as it was before the delete: fold it into the file (where
    // secure_delete zeroed the key) and truncate it, so no copy of the wrapped key remains.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}
