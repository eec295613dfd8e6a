import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { deriveAuditKey, loadDeploymentKeys } from '../../src/crypto/deployment-keys';
import { openSqlite } from '../../src/storage/sqlite/sqlite-database';
import { SqliteDataKeyStore } from '../../src/storage/sqlite/sqlite-data-key-store';
import { removeDir, tempDataDir } from '../support/app-harness';
import { dataKeyStoreContract } from './data-key-store.contract';

dataKeyStoreContract('SQLite', async () => {
  const dir = tempDataDir();
  const opened: SqliteDataKeyStore[] = [];
  return {
    open: async () => {
      // As SqliteStorage opens keys.sqlite.
      const store = new SqliteDataKeyStore(join(dir, 'keys.sqlite'));
      opened.push(store);
      return store;
    },
    dispose: async () => {
      for (const store of opened) await store.close();
      removeDir(dir);
    },
  };
});

describe('SQLite data-key store: a keys.sqlite written before deployment keys were stored', () => {
  it('opens read-only without them: none is stored, and the master key derives them as it always did', async () => {
    const dir = tempDataDir();
    try {
      const file = join(dir, 'keys.sqlite');
      const old = openSqlite(file, { durable: true, journal: 'rollback' });
      old.exec(`
        CREATE TABLE data_keys (account_id TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL);
        CREATE TABLE master_key_check (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);`);
      old.close();
      const store = new SqliteDataKeyStore(file, { access: 'read-only' });
      expect(await store.deploymentKey('audit-seal')).toBeNull();
      const master = randomBytes(32);
      expect((await loadDeploymentKeys(master, store, { store: false })).auditSeal).toEqual(deriveAuditKey(master));
      await expect(store.keepDeploymentKey('audit-seal', randomBytes(60))).rejects.toThrow(/read-only/);
      await store.close();
    } finally {
      removeDir(dir);
    }
  });
});
