import { setTimeout as delay } from 'node:timers/promises';
import { DatabaseError, Pool } from 'pg';
import { DataKeyStore, Rewrap, WrappedDataKey } from '../../crypto/data-key-store.port';
import { GroupedCalls } from '../grouped-calls';
import { inTransaction } from './postgres-pool';

const LOCK_NOT_AVAILABLE = '55P03';
/** Keys per grouped statement: two parameters (arrays) whatever the count, so a bound on the statement's size only. */
const MAX_GROUP = 1000;
/** A partition as regclass prints it: data_keys_pNN, schema-qualified when not on the search_path. */
const PARTITION_NAME = /^(?:[a-z_][a-z0-9_]*\.|"[^"]+"\.)?data_keys_p\d{2}$/;

export interface PostgresDataKeyStoreOptions {
  /**
   * How long a destroy waits for the lock its rewrite needs. While it waits, reads of that partition
   * queue behind it, so the wait is short; if it expires (a long transaction holds the partition),
   * the rewrite is left pending and retried (finishErasures).
   */
  rewriteLockTimeoutMs?: number;
  /** How often pending erasures are tried again in the background. */
  retryIntervalMs?: number;
  /**
   * How long a destroy keeps trying to finish its erasure while transactions older than its delete
   * (the queries and commits of the moment: a projection batch, a read) may still read the key:
   * those end within milliseconds, and the caller is then told of a finished erasure. Past this, a
   * long transaction holds it, and the background retries finish it.
   */
  settleTimeoutMs?: number;
}

/**
 * Data keys on PostgreSQL, in the hash-partitioned `data_keys` table (migration 3).
 *
 * Why a destroy rewrites a partition. A DELETE only marks the row dead; VACUUM then frees its line
 * pointer, but PostgreSQL does not clear the space a removed tuple occupied: when it was the newest
 * on its page, its bytes stay in the page's free space (seen with pageinspect's get_raw_page) until
 * some later insert happens to overwrite them. `VACUUM FULL` writes the partition's live rows into a
 * fresh file and truncates the old one, so no page of the table holds the key any more. It locks
 * that partition exclusively for the rewrite: with 64 partitions, one holds about 1/64 of the keys
 * (some 15,000 at a million accounts, about 2 MB, rewritten in tens of milliseconds), and only the
 * keys in it wait.
 *
 * The rewrite runs after the DELETE has committed (VACUUM cannot run in a transaction); a row in
 * `data_key_erasures`, written in the DELETE's transaction, remembers it is due until a rewrite has
 * surely removed the row: a process that dies in between leaves the work to the next destroy or
 * start-up instead of forgetting it. A transaction that began before the DELETE (a pg_dump, say)
 * may still read the row, and a rewrite copies such a row along; the erasure then stays pending
 * until that transaction has ended.
 *
 * What this does not reach: WAL, replicas' WAL and backups keep their copies. Master-key rotation
 * covers those (docs/STORAGE.md).
 */
export class PostgresDataKeyStore extends DataKeyStore {
  private readonly rewriteLockTimeoutMs: number;
  private readonly retryIntervalMs: number;
  private readonly settleTimeoutMs: number;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    options: PostgresDataKeyStoreOptions = {},
  ) {
    super();
    this.rewriteLockTimeoutMs = options.rewriteLockTimeoutMs ?? 2000;
    this.retryIntervalMs = options.retryIntervalMs ?? 30_000;
    this.settleTimeoutMs = options.settleTimeoutMs ?? 2000;
  }

  /**
   * Reads and creations are grouped (GroupedCalls): every create of the moment is one statement and
   * one commit, every projection batch's reads one statement, instead of a round trip each.
   */
  private readonly reads = new GroupedCalls<string, Buffer | null>((ids) => this.getGroup(ids), { maxWeight: MAX_GROUP });
  private readonly puts = new GroupedCalls<WrappedDataKey, Buffer>((keys) => this.putGroup(keys), { maxWeight: MAX_GROUP });

  get(accountId: string): Promise<Buffer | null> {
    return this.reads.call(accountId);
  }

  putIfAbsent(accountId: string, wrappedKey: Buffer): Promise<Buffer> {
    return this.puts.call({ accountId, wrappedKey });
  }

  private async getGroup(ids: readonly string[]): Promise<(Buffer | null)[]> {
    const { rows } = await this.pool.query<{ account_id: string; wrapped_key: Buffer }>({
      name: 'data-keys-get',
      text: 'SELECT account_id, wrapped_key FROM data_keys WHERE account_id = ANY($1::text[])',
      values: [[...new Set(ids)]],
    });
    const found = new Map(rows.map((row) => [row.account_id, row.wrapped_key]));
    return ids.map((id) => found.get(id) ?? null);
  }

  /** Inserts the keys of accounts that have none; each caller gets the key stored for its account, its own or one stored before. */
  private async putGroup(keys: readonly WrappedDataKey[]): Promise<(Buffer | Error)[]> {
    // ON CONFLICT DO NOTHING also settles two keys for one account in the group: the first listed wins.
    const inserted = await this.pool.query<{ account_id: string; wrapped_key: Buffer }>({
      name: 'data-keys-put',
      text: `INSERT INTO data_keys (account_id, wrapped_key)
             SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT DO NOTHING RETURNING account_id, wrapped_key`,
      values: [keys.map((key) => key.accountId), keys.map((key) => key.wrappedKey)],
    });
    const stored = new Map(inserted.rows.map((row) => [row.account_id, row.wrapped_key]));
    // Another writer stored one first: a new statement sees its committed row.
    const others = [...new Set(keys.map((key) => key.accountId).filter((id) => !stored.has(id)))];
    if (others.length > 0) (await this.getGroup(others)).forEach((key, i) => key && stored.set(others[i], key));
    return keys.map(({ accountId }) => stored.get(accountId) ?? new Error(`The data key of account ${accountId} was destroyed while it was being created`));
  }

  async destroy(accountId: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const gone = await client.query<{ partition: string }>(
        'DELETE FROM data_keys WHERE account_id = $1 RETURNING tableoid::regclass::text AS partition',
        [accountId],
      );
      if (gone.rows[0]) {
        await client.query('INSERT INTO data_key_erasures (account_id, partition) VALUES ($1, $2)', [accountId, gone.rows[0].partition]);
      }
    });
    const deadline = Date.now() + this.settleTimeoutMs;
    for (let waitMs = 5; (await this.finishErasures()) > 0 && Date.now() < deadline; waitMs = Math.min(2 * waitMs, 100)) await delay(waitMs);
  }

  /**
   * Rewrites every partition that holds the remains of a destroyed key: this destroy's, and any
   * left pending (a process died before its rewrite, the rewrite could not get its lock in time, or a
   * transaction older than the delete could still read the row). Returns how many erasures are still
   * pending; while any are, it tries again every `retryIntervalMs` in the background.
   */
  async finishErasures(): Promise<number> {
    // Settled: no snapshot or transaction that can read this database (a session in it, or one tied
    // to no database, such as a WAL sender; a replication slot; a prepared transaction) is as old as
    // the deleting transaction, so a rewrite starting now cannot keep the row. Sessions in the
    // cluster's other databases are left out, as the server leaves them out of this table's
    // visibility horizon. age() counts back from the current transaction id, so a larger age is older.
    const { rows } = await this.pool.query<{ id: string; partition: string; settled: boolean }>(`
      WITH sessions AS (SELECT backend_xmin, backend_xid FROM pg_stat_activity WHERE datid IS NULL OR datname = current_database()),
      holders AS (
        SELECT backend_xmin AS xid FROM sessions WHERE backend_xmin IS NOT NULL
        UNION ALL SELECT backend_xid FROM sessions WHERE backend_xid IS NOT NULL
        UNION ALL SELECT xmin FROM pg_replication_slots WHERE xmin IS NOT NULL
        UNION ALL SELECT transaction FROM pg_prepared_xacts
      )
      SELECT id, partition, NOT EXISTS (SELECT 1 FROM holders WHERE age(holders.xid) >= age(deleted_by::xid)) AS settled
      FROM data_key_erasures`);
    const byPartition = new Map<string, { settled: string[]; unsettled: number }>();
    for (const row of rows) {
      const entry = byPartition.get(row.partition) ?? { settled: [], unsettled: 0 };
      if (row.settled) entry.settled.push(row.id);
      else entry.unsettled += 1;
      byPartition.set(row.partition, entry);
    }
    let pending = 0;
    for (const [partition, { settled, unsettled }] of byPartition) {
      if (!PARTITION_NAME.test(partition)) throw new Error(`Not a data-key partition: ${JSON.stringify(partition)}`);
      pending += unsettled;
      if (settled.length === 0) continue;
      if (await this.rewrite(partition)) {
        await this.pool.query('DELETE FROM data_key_erasures WHERE id = ANY($1::bigint[])', [settled]);
      } else {
        pending += settled.length;
      }
    }
    if (pending > 0) this.retryLater();
    else this.cancelRetry();
    return pending;
  }

  /** Ends the background retries (the pool's owner calls it before ending the pool). */
  stopRetrying(): void {
    this.stopped = true;
    this.cancelRetry();
  }

  private cancelRetry(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  private retryLater(): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      // A failure here is met again, and reported, by the next destroy or start-up.
      this.finishErasures().catch(() => undefined);
    }, this.retryIntervalMs);
    this.retry.unref();
  }

  /** VACUUM FULL of one partition; false when its lock was not granted in time. */
  private async rewrite(partition: string): Promise<boolean> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(this.rewriteLockTimeoutMs))}`);
      await client.query(`VACUUM FULL ${partition}`);
      return true;
    } catch (error) {
      if (error instanceof DatabaseError && error.code === LOCK_NOT_AVAILABLE) return false;
      broken = error as Error;
      throw error;
    } finally {
      await client.query('RESET lock_timeout').catch((error: Error) => (broken ??= error));
      client.release(broken);
    }
  }

  async keepMasterKeyCheck(check: string): Promise<string> {
    await this.pool.query('INSERT INTO master_key_check (id, value) VALUES (1, $1) ON CONFLICT DO NOTHING', [check]);
    return (await this.masterKeyCheck())!;
  }

  async masterKeyCheck(): Promise<string | null> {
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM master_key_check WHERE id = 1');
    return rows[0]?.value ?? null;
  }

  async replaceMasterKeyCheck(expected: string | null, replacement: string): Promise<boolean> {
    const result =
      expected === null
        ? await this.pool.query('INSERT INTO master_key_check (id, value) VALUES (1, $1) ON CONFLICT DO NOTHING', [replacement])
        : await this.pool.query('UPDATE master_key_check SET value = $1 WHERE id = 1 AND value = $2', [replacement, expected]);
    return (result.rowCount ?? 0) > 0;
  }

  async listWrapped(after: string, limit: number): Promise<WrappedDataKey[]> {
    const { rows } = await this.pool.query<{ account_id: string; wrapped_key: Buffer }>(
      'SELECT account_id, wrapped_key FROM data_keys WHERE account_id > $1 ORDER BY account_id LIMIT $2',
      [after, limit],
    );
    return rows.map((row) => ({ accountId: row.account_id, wrappedKey: row.wrapped_key }));
  }

  async rewrap(changes: readonly Rewrap[]): Promise<string[]> {
    if (changes.length === 0) return [];
    // One statement, so one commit, per batch.
    const { rows } = await this.pool.query<{ account_id: string }>(
      `UPDATE data_keys AS k SET wrapped_key = c.replacement
       FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS c (account_id, current, replacement)
       WHERE k.account_id = c.account_id AND k.wrapped_key = c.current
       RETURNING k.account_id`,
      [changes.map((c) => c.accountId), changes.map((c) => c.current), changes.map((c) => c.replacement)],
    );
    return rows.map((row) => row.account_id);
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM data_keys');
    return Number(rows[0].n);
  }

  async deploymentKey(purpose: string): Promise<Buffer | null> {
    const { rows } = await this.pool.query<{ wrapped_key: Buffer }>('SELECT wrapped_key FROM deployment_keys WHERE purpose = $1', [purpose]);
    return rows[0]?.wrapped_key ?? null;
  }

  async keepDeploymentKey(purpose: string, wrappedKey: Buffer): Promise<Buffer> {
    await this.pool.query('INSERT INTO deployment_keys (purpose, wrapped_key) VALUES ($1, $2) ON CONFLICT DO NOTHING', [purpose, wrappedKey]);
    return (await this.deploymentKey(purpose))!;
  }

  async replaceDeploymentKey(purpose: string, current: Buffer, replacement: Buffer): Promise<boolean> {
    const result = await this.pool.query('UPDATE deployment_keys SET wrapped_key = $3 WHERE purpose = $1 AND wrapped_key = $2', [purpose, current, replacement]);
    return (result.rowCount ?? 0) > 0;
  }

  /** The pool belongs to whoever made it (PostgresStorage). */
  async close(): Promise<void> {}
}
