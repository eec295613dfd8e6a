import { Pool } from 'pg';
import { PostgresDataKeyStore } from '../../src/storage/postgres/postgres-data-key-store';
import { describePostgres, migratedPool } from '../support/postgres';
import { dataKeyStoreContract } from './data-key-store.contract';

describePostgres('PostgreSQL data-key store', (database) => {
  dataKeyStoreContract('PostgreSQL', async () => {
    const pools: Pool[] = [];
    const open = async () => {
      const pool = await migratedPool(database.url);
      pools.push(pool);
      return pool;
    };
    // The suite's database is shared by its tests: each starts from an empty store.
    // DELETE rather than TRUNCATE: truncating 64 partitions makes 64 new files, slowly.
    await (await open()).query('DELETE FROM data_keys; DELETE FROM data_key_erasures; DELETE FROM master_key_check; DELETE FROM deployment_keys');
    return {
      open: async () => new PostgresDataKeyStore(await open()),
      dispose: async () => {
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  });
});
