import { Pool } from 'pg';
import { PostgresIdempotencyStore } from '../../src/storage/postgres/postgres-idempotency-store';
import { describePostgres, migratedPool } from '../support/postgres';
import { idempotencyStoreContract } from './idempotency-store.contract';

describePostgres('PostgreSQL idempotency store', (database) => {
  idempotencyStoreContract('PostgreSQL', async () => {
    const pools: Pool[] = [];
    const open = async () => {
      const pool = await migratedPool(database.url);
      pools.push(pool);
      return pool;
    };
    // The suite's database is shared by its tests: each starts from an empty store.
    await (await open()).query('DELETE FROM idempotency_records');
    return {
      open: async () => new PostgresIdempotencyStore(await open()),
      dispose: async () => {
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  });
});
