// What a DATA_DIR's stores hold, wherever the jest project keeps them (test-storage.ts): SQLite
// files in DATA_DIR, or the DATA_DIR's own PostgreSQL database. The tables have the same names and
// columns on both, so a test states its SQL once.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { EVENTS_FILE, KEYS_FILE, STATE_FILE } from '../../src/storage/sqlite/sqlite-storage';
import { filesBelow } from './files';
import { eventsInSqlite, stateInSqlite, storageEnv } from './test-storage';

/** Which of the stores: the events; the read model and idempotency records; the data keys. */
export type Store = 'events' | 'state' | 'keys';

const SQLITE_FILES: Record<Store, string> = { events: EVENTS_FILE, state: STATE_FILE, keys: KEYS_FILE };
const inSqlite = (store: Store) => (store === 'events' ? eventsInSqlite : stateInSqlite);

/** Runs one statement (`?` placeholders) on the store and returns its rows. */
export async function queryStore<Row = Record<string, unknown>>(dataDir: string, store: Store, sql: string, params: unknown[] = []): Promise<Row[]> {
  if (inSqlite(store)) {
    const db = new Database(join(dataDir, SQLITE_FILES[store]));
    try {
      const statement = db.prepare(sql);
      return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as Row[];
    } finally {
      db.close();
    }
  }
  let n = 0;
  return withDatabase(dataDir, async (client) => (await client.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as Row[]);
}

/**
 * Every byte the DATA_DIR's stores keep: its files (SQLite -wal and -shm included), and on
 * PostgreSQL every page of every relation of its database (tables, TOAST, indexes), live and dead
 * tuples and free space alike, read with pageinspect.
 */
export async function storedBytes(dataDir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const files = filesBelow(dataDir);
  if (eventsInSqlite && stateInSqlite) return files;
  const pages = await withDatabase(dataDir, async (client) => {
    await client.query('CREATE EXTENSION IF NOT EXISTS pageinspect');
    const { rows } = await client.query<{ relation: string; blocks: number }>(`
      SELECT c.oid::regclass::text AS relation, pg_relation_size(c.oid) / current_setting('block_size')::int AS blocks
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 't', 'i', 'm') AND c.relpersistence = 'p' AND n.nspname IN ('public', 'pg_toast')`);
    const found: { path: string; bytes: Buffer }[] = [];
    for (const { relation, blocks } of rows) {
      for (let block = 0; block < blocks; block++) {
        const page = await client.query<{ page: Buffer }>('SELECT get_raw_page($1, $2) AS page', [relation, block]);
        found.push({ path: `postgresql:${relation}#${block}`, bytes: page.rows[0].page });
      }
    }
    return found;
  });
  return [...files, ...pages];
}

/** Where any of the values is stored as UTF-8 plaintext ("file: value", or "postgresql:table#page: value"), logs included: [] is the goal. */
export async function storedPlaintextHits(dataDir: string, values: string[], extra: { name: string; text: string }[] = []): Promise<string[]> {
  const sources = [...(await storedBytes(dataDir)), ...extra.map((e) => ({ path: e.name, bytes: Buffer.from(e.text, 'utf8') }))];
  return sources.flatMap(({ path, bytes }) => values.filter((v) => bytes.includes(Buffer.from(v, 'utf8'))).map((v) => `${path}: ${v}`));
}

async function withDatabase<T>(dataDir: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: storageEnv(dataDir).DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Throws the account read model away (rows and checkpoint): the projection rebuilds it from the first event. */
export async function throwAwayReadModel(dataDir: string): Promise<void> {
  await queryStore(dataDir, 'state', 'DELETE FROM accounts');
  await queryStore(dataDir, 'state', 'DELETE FROM projection_checkpoints');
}

/** The account projection's checkpoint (a position: on both adapters, a number as 20 digits) as the number of events of the global log at or before it: how far a rebuild has come. */
export async function eventsBehindCheckpoint(dataDir: string): Promise<number> {
  const [checkpoint] = await queryStore<{ position: string }>(dataDir, 'state', "SELECT position FROM projection_checkpoints WHERE projection = 'accounts'");
  if (!checkpoint) return 0;
  const [counted] = await queryStore<{ n: number | string }>(dataDir, 'events', 'SELECT COUNT(*) AS n FROM events WHERE position <= ?', [Number(checkpoint.position)]);
  return Number(counted.n);
}
