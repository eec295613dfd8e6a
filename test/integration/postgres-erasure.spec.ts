import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { WrappedDataKey } from '../../src/crypto/data-key-store.port';
import { dataKeyWrappingKey, tryUnwrapDataKey } from '../../src/crypto/data-key-wrapping';
import { verifyMasterKey } from '../../src/crypto/master-key';
import { rotateMasterKey } from '../../src/crypto/master-key-rotation';
import { PersonalDataCipher } from '../../src/crypto/personal-data-cipher';
import { RandomIdFactory } from '../../src/kernel/ids';
import { PostgresDataKeyStore } from '../../src/storage/postgres/postgres-data-key-store';
import { PostgresStorage } from '../../src/storage/postgres/postgres-storage';
import { describePostgres, migratedPool } from '../support/postgres';

jest.setTimeout(60_000);

describePostgres('Erasure on PostgreSQL', (database) => {
  let pool: Pool;
  let masterKey: Buffer;
  let store: PostgresDataKeyStore;
  let cipher: PersonalDataCipher;

  beforeAll(async () => {
    pool = await migratedPool(database.url);
    // Reads pages as the server holds them, dead tuples and free space included (superuser only).
    await pool.query('CREATE EXTENSION IF NOT EXISTS pageinspect');
  });
  afterAll(() => pool.end());
  beforeEach(async () => {
    await pool.query('DELETE FROM data_keys; DELETE FROM data_key_erasures; DELETE FROM master_key_check');
    masterKey = randomBytes(32);
    store = new PostgresDataKeyStore(pool);
    await verifyMasterKey(masterKey, store);
    cipher = new PersonalDataCipher(masterKey, store);
  });

  /** Accounts with personal data sealed, as the service makes them: each gets its data key. */
  async function accounts(n: number): Promise<{ ids: string[]; keys: Map<string, Buffer>; sealed: Map<string, string> }> {
    const ids = Array.from({ length: n }, () => new RandomIdFactory().accountId());
    const sealed = new Map<string, string>();
    for (const id of ids) sealed.set(id, (await cipher.seal(id, { email: `${id}@example.com` }, { createKey: true }))!);
    const keys = new Map<string, Buffer>();
    for (const id of ids) keys.set(id, (await store.get(id))!);
    return { ids, keys, sealed };
  }

  async function relationPages(relation: string): Promise<Buffer[]> {
    const { rows } = await pool.query<{ pages: number }>(`SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int AS pages`, [relation]);
    const pages: Buffer[] = [];
    for (let block = 0; block < rows[0].pages; block++) {
      pages.push((await pool.query<{ page: Buffer }>('SELECT get_raw_page($1, $2) AS page', [relation, block])).rows[0].page);
    }
    return pages;
  }

  /** Every page of every partition of data_keys, byte for byte: live and dead tuples, free space, headers. */
  async function dataKeyPages(): Promise<Buffer[]> {
    const { rows } = await pool.query<{ name: string }>("SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'data_keys'::regclass");
    expect(rows.length).toBeGreaterThan(1);
    return (await Promise.all(rows.map((row) => relationPages(row.name)))).flat();
  }

  /** The data of every tuple pageinspect lists in data_keys, whatever its state (live, dead, redirected). */
  async function tupleData(): Promise<Buffer[]> {
    const { rows } = await pool.query<{ data: Buffer | null }>(`
      SELECT items.t_data AS data
      FROM pg_inherits, generate_series(0, pg_relation_size(inhrelid) / current_setting('block_size')::int - 1) AS block,
           heap_page_items(get_raw_page(inhrelid::regclass::text, block::int)) AS items
      WHERE inhparent = 'data_keys'::regclass`);
    return rows.flatMap((row) => (row.data ? [row.data] : []));
  }

  const holding = (chunks: Buffer[], bytes: Buffer) => chunks.some((chunk) => chunk.includes(bytes));

  it('leaves no copy of a destroyed key in any page of the key table (live, dead or free space) while every other key is there', async () => {
    const { ids, keys, sealed } = await accounts(200);
    // The newest key of its partition: a plain VACUUM would leave its bytes in the page's free space.
    const destroyed = [ids.at(-1)!, ids[57]];
    const before = await dataKeyPages();
    for (const id of destroyed) expect(holding(before, keys.get(id)!)).toBe(true);

    for (const id of destroyed) await cipher.shred(id);

    const pages = await dataKeyPages();
    const tuples = await tupleData();
    for (const id of ids) {
      const expected = !destroyed.includes(id);
      expect([id, holding(pages, keys.get(id)!), holding(tuples, keys.get(id)!)]).toEqual([id, expected, expected]);
    }
    expect((await pool.query('SELECT * FROM data_key_erasures')).rows).toEqual([]);
    const fresh = new PersonalDataCipher(masterKey, new PostgresDataKeyStore(pool));
    for (const id of destroyed) expect(await fresh.open(id, sealed.get(id)!)).toBeUndefined();
    expect(await fresh.open(ids[0], sealed.get(ids[0])!)).toEqual({ email: `${ids[0]}@example.com` });
  });

  it('after master-key rotation, the old master key opens none of the stored keys, and a copy of a destroyed key kept elsewhere opens only with the old one', async () => {
    const { ids, keys } = await accounts(40);
    const destroyed = ids[7];
    // What a WAL segment, a replica or a backup taken before the redaction still holds.
    const copyKeptElsewhere = keys.get(destroyed)!;
    await cipher.shred(destroyed);

    const newMasterKey = randomBytes(32);
    expect(await rotateMasterKey(store, masterKey, newMasterKey, { batchSize: 16 })).toMatchObject({ rewrapped: 39 });

    const stored: WrappedDataKey[] = (await pool.query<{ account_id: string; wrapped_key: Buffer }>('SELECT account_id, wrapped_key FROM data_keys')).rows.map(
      (row) => ({ accountId: row.account_id, wrappedKey: row.wrapped_key }),
    );
    expect(stored).toHaveLength(39);
    const opens = (master: Buffer, key: WrappedDataKey) => tryUnwrapDataKey(dataKeyWrappingKey(master), key.accountId, key.wrappedKey) !== null;
    expect(stored.filter((key) => opens(masterKey, key))).toEqual([]);
    expect(stored.every((key) => opens(newMasterKey, key))).toBe(true);
    // Destroying the old master key is what makes that copy noise: the new one cannot open it.
    expect(opens(masterKey, { accountId: destroyed, wrappedKey: copyKeptElsewhere })).toBe(true);
    expect(opens(newMasterKey, { accountId: destroyed, wrappedKey: copyKeptElsewhere })).toBe(false);
  });

  it('finishes an erasure that a process left half done (row deleted, partition not yet rewritten) when the next one starts', async () => {
    const { ids, keys } = await accounts(30);
    const victim = ids.at(-1)!;
    // What destroy commits before its rewrite; then the process dies.
    await pool.query(`
      WITH gone AS (DELETE FROM data_keys WHERE account_id = $1 RETURNING tableoid::regclass::text AS partition)
      INSERT INTO data_key_erasures (account_id, partition) SELECT $1, partition FROM gone`, [victim]);
    expect(holding(await dataKeyPages(), keys.get(victim)!)).toBe(true);

    const started = await PostgresStorage.open(database.url);
    try {
      expect(holding(await dataKeyPages(), keys.get(victim)!)).toBe(false);
      expect((await pool.query('SELECT * FROM data_key_erasures')).rows).toEqual([]);
    } finally {
      await started.close();
    }
  });

  it('waits only briefly for a partition a long transaction is reading, and rewrites it once that has ended', async () => {
    const { ids, keys } = await accounts(30);
    const victim = ids.at(-1)!;
    const { rows } = await pool.query<{ partition: string }>('SELECT tableoid::regclass::text AS partition FROM data_keys WHERE account_id = $1', [victim]);
    const reader = await pool.connect();
    try {
      // A report, say, reading the partition in a long transaction.
      await reader.query('BEGIN');
      await reader.query(`SELECT count(*) FROM ${rows[0].partition}`);
      const impatient = new PostgresDataKeyStore(pool, { rewriteLockTimeoutMs: 200 });
      const started = Date.now();
      await impatient.destroy(victim);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await impatient.get(victim)).toBeNull();
      expect(await impatient.finishErasures()).toBe(1);
      await reader.query('COMMIT');
      expect(await impatient.finishErasures()).toBe(0);
      expect(holding(await dataKeyPages(), keys.get(victim)!)).toBe(false);
    } finally {
      await reader.query('ROLLBACK').catch(() => undefined);
      reader.release();
    }
  });

  it('finishes the erasure before the destroy returns when what could still read the key is a transaction of the moment', async () => {
    const { ids, keys } = await accounts(30);
    const victim = ids.at(-1)!;
    const other = await pool.connect();
    try {
      // A projection batch, say, reading while the redaction deletes the key: it ends within milliseconds.
      await other.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await other.query('SELECT count(*) FROM api_keys');
      const destroyed = store.destroy(victim);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await other.query('COMMIT');
      await destroyed;
      // Told it is done, it is: no pending erasure, no copy of the key in any page.
      expect((await pool.query('SELECT 1 FROM data_key_erasures')).rowCount).toBe(0);
      expect(holding(await dataKeyPages(), keys.get(victim)!)).toBe(false);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      other.release();
    }
  });

  it('keeps an erasure pending while a transaction older than the destroy can still read the key, and completes it by itself after', async () => {
    const { ids, keys } = await accounts(30);
    const victim = ids.at(-1)!;
    const patient = new PostgresDataKeyStore(pool, { retryIntervalMs: 100 });
    const backup = await pool.connect();
    try {
      // A pg_dump, say: one snapshot, taken before the redaction, for as long as it runs.
      await backup.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await backup.query('SELECT count(*) FROM api_keys');
      await patient.destroy(victim);
      expect(await patient.get(victim)).toBeNull();
      expect(await patient.finishErasures()).toBe(1);
      // The backup still sees the key: a rewrite now would have to copy it along.
      expect((await backup.query('SELECT wrapped_key FROM data_keys WHERE account_id = $1', [victim])).rows[0].wrapped_key).toEqual(keys.get(victim));
      expect(holding(await dataKeyPages(), keys.get(victim)!)).toBe(true);
      await backup.query('COMMIT');
      // No further destroy or start-up: the store's own retry finishes it.
      const deadline = Date.now() + 10_000;
      while ((await pool.query('SELECT 1 FROM data_key_erasures')).rowCount && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(holding(await dataKeyPages(), keys.get(victim)!)).toBe(false);
    } finally {
      patient.stopRetrying();
      await backup.query('ROLLBACK').catch(() => undefined);
      backup.release();
    }
  });

  it('is not held back by a long transaction in another database of the same server, which cannot read the key', async () => {
    const { ids, keys } = await accounts(30);
    const victim = ids.at(-1)!;
    const elsewhere = new Client({ connectionString: database.url.replace(/\/[^/]*$/, '/postgres') });
    await elsewhere.connect();
    try {
      // Another application's report on the same server: a snapshot older than the destroy.
      await elsewhere.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await elsewhere.query('SELECT count(*) FROM pg_class');
      await store.destroy(victim);
      expect(await store.finishErasures()).toBe(0);
      expect(holding(await dataKeyPages(), keys.get(victim)!)).toBe(false);
    } finally {
      await elsewhere.query('ROLLBACK').catch(() => undefined);
      await elsewhere.end();
    }
  });

  // Not this service's code but the reason for its design: if PostgreSQL ever cleared the space of
  // removed tuples, a plain VACUUM would do and the partitions' rewrite could go.
  it('shows why a destroy rewrites its partition: after DELETE and a plain VACUUM the newest row\'s bytes remain in the page', async () => {
    await pool.query('DROP TABLE IF EXISTS vacuum_probe; CREATE TABLE vacuum_probe (id int PRIMARY KEY, secret bytea NOT NULL) WITH (autovacuum_enabled = false)');
    const secrets = Array.from({ length: 10 }, () => randomBytes(60));
    for (const [id, secret] of secrets.entries()) await pool.query('INSERT INTO vacuum_probe VALUES ($1, $2)', [id, secret]);
    await pool.query('DELETE FROM vacuum_probe WHERE id = 9');
    await pool.query('VACUUM vacuum_probe');
    expect((await pool.query('SELECT count(*)::int AS n FROM vacuum_probe')).rows[0].n).toBe(9);
    expect(holding(await relationPages('vacuum_probe'), secrets[9])).toBe(true);
    await pool.query('DROP TABLE vacuum_probe');
  });
}, { pageinspect: true });
