import { DataKeyStore, WrappedDataKey } from '../../crypto/data-key-store.port';
import { SqliteDatabase } from './sqlite-database';

export class SqliteDataKeyStore extends DataKeyStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    super();
    db.exec(`
      CREATE TABLE IF NOT EXISTS data_keys (account_id TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS master_key_check (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);`);
    this.statements = {
      get: db.prepare<[string], { wrapped_key: Buffer }>('SELECT wrapped_key FROM data_keys WHERE account_id = ?'),
      insert: db.prepare('INSERT OR IGNORE INTO data_keys (account_id, wrapped_key) VALUES (?, ?)'),
      destroy: db.prepare('DELETE FROM data_keys WHERE account_id = ?'),
      keepCheck: db.prepare('INSERT OR IGNORE INTO master_key_check (id, value) VALUES (1, ?)'),
      check: db.prepare<[], { value: string }>('SELECT value FROM master_key_check WHERE id = 1'),
      replaceCheck: db.prepare('UPDATE master_key_check SET value = ? WHERE id = 1 AND value = ?'),
      list: db.prepare<[string, number], { account_id: string; wrapped_key: Buffer }>(
        'SELECT account_id, wrapped_key FROM data_keys WHERE account_id > ? ORDER BY account_id LIMIT ?',
      ),
      rewrap: db.prepare('UPDATE data_keys SET wrapped_key = ? WHERE account_id = ? AND wrapped_key = ?'),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM data_keys'),
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
    // secure_delete zeroes the key's bytes in the file; the file keeps no WAL (sqlite-storage.ts).
    this.statements.destroy.run(accountId);
  }

  async keepMasterKeyCheck(check: string): Promise<string> {
    this.statements.keepCheck.run(check);
    return this.statements.check.get()!.value;
  }

  async masterKeyCheck(): Promise<string | null> {
    return this.statements.check.get()?.value ?? null;
  }

  async replaceMasterKeyCheck(expected: string | null, replacement: string): Promise<boolean> {
    const result = expected === null ? this.statements.keepCheck.run(replacement) : this.statements.replaceCheck.run(replacement, expected);
    return result.changes > 0;
  }

  async listWrapped(after: string, limit: number): Promise<WrappedDataKey[]> {
    return this.statements.list.all(after, limit).map((row) => ({ accountId: row.account_id, wrappedKey: row.wrapped_key }));
  }

  async rewrap(accountId: string, current: Buffer, replacement: Buffer): Promise<boolean> {
    return this.statements.rewrap.run(replacement, accountId, current).changes > 0;
  }

  async count(): Promise<number> {
    return this.statements.count.get()!.n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
