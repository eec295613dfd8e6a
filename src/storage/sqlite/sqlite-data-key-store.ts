import { DataKeyStore, Rewrap, WrappedDataKey } from '../../crypto/data-key-store.port';
import { SqliteDatabase } from './sqlite-database';

export class SqliteDataKeyStore extends DataKeyStore {
  private readonly statements;
  private readonly rewrapAll: (changes: readonly Rewrap[]) => string[];

  constructor(private readonly db: SqliteDatabase) {
    super();
    db.exec(`
      CREATE TABLE IF NOT EXISTS data_keys (account_id TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS master_key_check (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);`);
    // Newer than the other tables: a file an older build wrote, opened read-only, lacks it (and holds no deployment key).
    if (!db.readonly) db.exec('CREATE TABLE IF NOT EXISTS deployment_keys (purpose TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL)');
    const deploymentKeys = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deployment_keys'").get() !== undefined;
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
      deploymentKey: deploymentKeys ? db.prepare<[string], { wrapped_key: Buffer }>('SELECT wrapped_key FROM deployment_keys WHERE purpose = ?') : null,
      keepDeploymentKey: deploymentKeys ? db.prepare('INSERT OR IGNORE INTO deployment_keys (purpose, wrapped_key) VALUES (?, ?)') : null,
      replaceDeploymentKey: deploymentKeys ? db.prepare('UPDATE deployment_keys SET wrapped_key = ? WHERE purpose = ? AND wrapped_key = ?') : null,
    };
    // One transaction, so one sync, per batch: a commit per key would bound a rotation to the disk's syncs per second.
    this.rewrapAll = db.transaction((changes: readonly Rewrap[]) =>
      changes.filter((c) => this.statements.rewrap.run(c.replacement, c.accountId, c.current).changes > 0).map((c) => c.accountId),
    );
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

  async rewrap(changes: readonly Rewrap[]): Promise<string[]> {
    return this.rewrapAll(changes);
  }

  async count(): Promise<number> {
    return this.statements.count.get()!.n;
  }

  async deploymentKey(purpose: string): Promise<Buffer | null> {
    return this.statements.deploymentKey?.get(purpose)?.wrapped_key ?? null;
  }

  async keepDeploymentKey(purpose: string, wrappedKey: Buffer): Promise<Buffer> {
    this.writable(this.statements.keepDeploymentKey).run(purpose, wrappedKey);
    return (await this.deploymentKey(purpose))!;
  }

  async replaceDeploymentKey(purpose: string, current: Buffer, replacement: Buffer): Promise<boolean> {
    return this.writable(this.statements.replaceDeploymentKey).run(replacement, purpose, current).changes > 0;
  }

  /** Only a read-only open of an old file has no deployment_keys table, and it writes nothing. */
  private writable<T>(statement: T | null): T {
    if (!statement) throw new Error('keys.sqlite is open read-only');
    return statement;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
