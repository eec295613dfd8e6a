import { Pool, PoolClient } from 'pg';

export interface PostgresPoolOptions {
  /** Connections at most; each service instance has its own pool. */
  max?: number;
  /** Shown in pg_stat_activity, so an operator can tell this service's sessions apart. */
  applicationName?: string;
  /**
   * A connection that breaks while idle in the pool (server restart, network) is discarded by the
   * pool and replaced on the next query; without a listener its 'error' event would end the process.
   */
  onIdleConnectionError?: (error: Error) => void;
}

/** The pool every PostgreSQL adapter shares within one process. */
export function createPostgresPool(connectionString: string, options: PostgresPoolOptions = {}): Pool {
  const pool = new Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'identity-accounts',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error) => options.onIdleConnectionError?.(error));
  // A connection checked out of the pool has no pool listener. One that breaks between two of its
  // queries (inside a transaction, say: a server restart, pg_terminate_backend) would end the process
  // with an unhandled 'error'; with this listener its next query fails instead, and the caller's
  // release(error) discards it.
  pool.on('connect', (client) => client.on('error', ignoreBrokenConnection));
  return pool;
}

/** Its pending or next query reports the error; the pool's listener logs an idle connection's. */
const ignoreBrokenConnection = () => undefined;

/** The connection string fit for messages and logs: the password, if any, replaced by ***. */
export function describeDatabaseUrl(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // Not a URL (a libpq key=value string, say): it may hold a password anywhere, so show none of it.
    return '(DATABASE_URL, not a URL)';
  }
}

export type Isolation = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/**
 * Runs `work` in one transaction on one connection of the pool: committed when it resolves, rolled
 * back when it throws. The isolation level is always named, so a server whose default differs
 * (default_transaction_isolation) cannot change what a transaction here guarantees.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  options: { isolation?: Isolation; readOnly?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await inTransactionOn(client, work, { ...options, onBroken: (error) => (broken = error) });
  } finally {
    // A connection whose rollback failed is in an unknown state: the pool closes it instead of reusing it.
    client.release(broken);
  }
}

/** The same on a connection the caller holds; `onBroken` hears of a rollback that failed (the connection is then unusable). */
export async function inTransactionOn<T>(
  client: PoolClient,
  work: (client: PoolClient) => Promise<T>,
  options: { isolation?: Isolation; readOnly?: boolean; onBroken?: (error: Error) => void } = {},
): Promise<T> {
  await client.query(`BEGIN ISOLATION LEVEL ${options.isolation ?? 'READ COMMITTED'}${options.readOnly ? ' READ ONLY' : ''}`);
  try {
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => options.onBroken?.(rollbackError));
    throw error;
  }
}
