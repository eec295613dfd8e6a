import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Pool } from 'pg';
import { createPostgresPool, inTransaction } from '../../src/storage/postgres/postgres-pool';
import { describePostgres } from '../support/postgres';

// A connection the server ends (a restart, a failover, an operator's pg_terminate_backend) while the
// service holds it between two queries: the work on it fails, the process goes on, the pool heals.
describePostgres('PostgreSQL connections that break while checked out', (database) => {
  let pool: Pool;
  beforeAll(() => {
    pool = createPostgresPool(database.url, { max: 2 });
  });
  afterAll(() => pool.end());

  /** What an operator does from another session. */
  async function terminate(pid: number): Promise<void> {
    const admin = new Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
  }

  it('fail the transaction they were in, without ending the process, and the next query gets a sound connection', async () => {
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      const failed = await inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await terminate(rows[0].pid);
        // Idle in the transaction while the server's message arrives: the moment with no query to report it to.
        await sleep(300);
        await client.query('SELECT 1');
      }).catch((error: Error) => error);
      expect(failed).toBeInstanceOf(Error);
      expect(uncaught).toEqual([]);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', record);
    }
  });
});
