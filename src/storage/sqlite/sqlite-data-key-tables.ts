import type { Rewrap, WrappedDataKey } from '../../crypto/data-key-store.port';
import { SqliteDatabase } from './sqlite-database';
import type { Operations } from './sqlite-writer.worker';

/**
 * The writer thread's side of keys.sqlite (SqliteDataKeyStore): every read and write of the file
 * runs here, on its one connection. Its rollback journal means a reader waits while a writer
 * commits: on this thread, never on the event loop.
 */
export function dataKeyOperations(db: SqliteDatabase): Operations {
  if (!db.readonly) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS data_keys (account_id TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS master_key_check (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS deployment_keys (purpose TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL);`);
  }
  // Newer than the other tables: a file an older build wrote, opened read-only, lacks it (and holds no deployment key).
  const deploymentKeys = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deployment_keys'").get() !== undefined;
  const statements = {
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
  /** Only a read-only open of an old file has no deployment_keys table, and it writes nothing. */
  const writable = <T>(statement: T | null): T => {
    if (!statement) throw new Error('keys.sqlite is open read-only');
    return statement;
  };
  const deploymentKey = (purpose: string) => statements.deploymentKey?.get(purpose)?.wrapped_key ?? null;
  return {
    get: { writes: false, run: (accountId: string) => statements.get.get(accountId)?.wrapped_key ?? null },
    putIfAbsent: {
      writes: true,
      run: (accountId: string, wrappedKey: Uint8Array) => {
        statements.insert.run(accountId, Buffer.from(wrappedKey));
        return statements.get.get(accountId)!.wrapped_key;
      },
    },
    // secure_delete zeroes the key's bytes in the file; the file keeps no WAL (sqlite-storage.ts).
    destroy: { writes: true, run: (accountId: string) => void statements.destroy.run(accountId) },
    keepMasterKeyCheck: {
      writes: true,
      run: (check: string) => {
        statements.keepCheck.run(check);
        return statements.check.get()!.value;
      },
    },
    masterKeyCheck: { writes: false, run: () => statements.check.get()?.value ?? null },
    replaceMasterKeyCheck: {
      writes: true,
      run: (expected: string | null, replacement: string) =>
        (expected === null ? statements.keepCheck.run(replacement) : statements.replaceCheck.run(replacement, expected)).changes > 0,
    },
    listWrapped: {
      writes: false,
      run: (after: string, limit: number): WrappedDataKey[] =>
        statements.list.all(after, limit).map((row) => ({ accountId: row.account_id, wrappedKey: row.wrapped_key })),
    },
    // One transaction, so one sync, per page: a commit per key would bound a rotation to the disk's syncs per second.
    rewrap: {
      writes: true,
      run: (changes: readonly Rewrap[]) =>
        changes
          .filter((c) => statements.rewrap.run(Buffer.from(c.replacement), c.accountId, Buffer.from(c.current)).changes > 0)
          .map((c) => c.accountId),
    },
    count: { writes: false, run: () => statements.count.get()!.n },
    deploymentKey: { writes: false, run: deploymentKey },
    keepDeploymentKey: {
      writes: true,
      run: (purpose: string, wrappedKey: Uint8Array) => {
        writable(statements.keepDeploymentKey).run(purpose, Buffer.from(wrappedKey));
        return deploymentKey(purpose);
      },
    },
    replaceDeploymentKey: {
      writes: true,
      run: (purpose: string, current: Uint8Array, replacement: Uint8Array) =>
        writable(statements.replaceDeploymentKey).run(Buffer.from(replacement), purpose, Buffer.from(current)).changes > 0,
    },
  };
}
