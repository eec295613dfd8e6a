import { Pool, PoolClient } from 'pg';
import { ProjectionLease } from '../../accounts/projection/account-read-model.port';
import { LOCK_CLASS, LOCKS } from './advisory-locks';

/**
 * The projection lease on PostgreSQL: a session-level advisory lock held on a connection taken out
 * of the pool for as long as the lease. The server releases it when that session ends, however it
 * ends: release(), the process dying (kill -9 closes its sockets), or the network dropping it. The
 * holder writes its batches through this same connection (PostgresAccountReadModel.commit), so once
 * the session is gone, and the lock with it, the old holder can no longer write: a lost lease fences
 * itself, with no clock involved.
 */
export class PostgresProjectionLease implements ProjectionLease {
  private readonly loss = new AbortController();
  readonly lost: AbortSignal = this.loss.signal;
  private released = false;
  private readonly onBroken = () => this.loss.abort();

  private constructor(
    /** The session that holds the lock: batches are committed on it. */
    readonly client: PoolClient,
  ) {
    // A checked-out client has no pool listener: without this one, its 'error' would end the process.
    client.on('error', this.onBroken);
    client.on('end', this.onBroken);
  }

  /** The lease, or null at once while another session holds it. */
  static async tryAcquire(pool: Pool): Promise<PostgresProjectionLease | null> {
    const client = await pool.connect();
    try {
      const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS held', [LOCK_CLASS, LOCKS.accountsProjection]);
      if (!rows[0].held) {
        client.release();
        return null;
      }
      // A client cut off without a word (a network cut) holds the lock until the server notices its
      // session is dead: make the server probe it after 10 s of silence, so that takes about 25 s
      // rather than the system's default of hours. (No effect on a Unix socket, which cannot be cut so.)
      await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
      return new PostgresProjectionLease(client);
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
  }

  /** Unlocks and gives the connection back; a broken one is closed instead, which ends the lock too. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    let broken: Error | undefined;
    if (this.lost.aborted) broken = new Error('the projection lease connection broke');
    else {
      await this.client
        .query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, LOCKS.accountsProjection])
        .catch((error: Error) => (broken = error));
    }
    this.client.off('error', this.onBroken);
    this.client.off('end', this.onBroken);
    this.client.release(broken);
  }

  /** Marks the lease lost: its session is in an unknown state (a commit on it failed to roll back). */
  markLost(): void {
    this.loss.abort();
  }
}
