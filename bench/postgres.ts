// PostgreSQL for the benchmark: whether a server answers, and databases of its own, dropped after.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** DATABASE_URL when set, else the local server with trust auth (as the test suites use it). */
export const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

async function asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Null when PostgreSQL can be used; else why not, in a few words. */
export async function postgresUnavailable(): Promise<string | null> {
  try {
    const can = await asAdmin(async (admin) => (await admin.query(`SELECT rolcreatedb OR rolsuper AS can FROM pg_roles WHERE rolname = current_user`)).rows[0]?.can);
    return can ? null : `the user of ${redacted(ADMIN_URL)} may not create databases`;
  } catch (error) {
    return `${redacted(ADMIN_URL)} does not answer (${(error as { code?: string }).code ?? (error as Error).message})`;
  }
}

/** A fresh database; its URL, and how to drop it. */
export async function freshDatabase(purpose: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ia_bench_${purpose}_${randomBytes(4).toString('hex')}`;
  await asAdmin((admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => asAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
