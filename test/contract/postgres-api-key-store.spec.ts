import { Pool } from 'pg';
import { PostgresApiKeyStore } from '../../src/storage/postgres/postgres-api-key-store';
import { describePostgres, migratedPool } from '../support/postgres';
import { apiKeyStoreContract } from './api-key-store.contract';

describePostgres('PostgreSQL API-key store', (database) => {
  apiKeyStoreContract('PostgreSQL', async () => {
    const pools: Pool[] = [];
    const open = async () => {
      const pool = await migratedPool(database.url);
      pools.push(pool);
      return pool;
    };
    // The suite's database is shared by its tests: each starts from an empty store.
    await (await open()).query('DELETE FROM api_keys');
    return {
      open: async () => new PostgresApiKeyStore(await open()),
      dispose: async () => {
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  });
});
