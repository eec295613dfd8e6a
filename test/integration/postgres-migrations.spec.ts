import { Pool } from 'pg';
import { migrate, MIGRATIONS, SchemaTooNew } from '../../src/storage/postgres/migrations';
import { createPostgresPool } from '../../src/storage/postgres/postgres-pool';
import { describePostgres } from '../support/postgres';

describePostgres('PostgreSQL schema migrations', (database) => {
  const pools: Pool[] = [];
  const pool = () => {
    const made = createPostgresPool(database.url, { max: 2 });
    pools.push(made);
    return made;
  };
  afterAll(() => Promise.all(pools.map((p) => p.end())));
  const allVersions = MIGRATIONS.map((m) => m.version);

  // In this order: the first test finds the database empty.
  it('applies every migration exactly once when instances start at once', async () => {
    const applied = await Promise.all(Array.from({ length: 4 }, () => migrate(pool())));
    expect(applied.filter((versions) => versions.length > 0)).toEqual([allVersions]);
    const { rows } = await pool().query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual(allVersions);
  });

  it('changes nothing when run again, data included', async () => {
    const p = pool();
    await p.query("INSERT INTO api_keys VALUES ('key_1', 'org', 'staging', '[]', 'sk_staging_abcd', 'hash-1', '2026-01-01T00:00:00Z', NULL)");
    expect(await migrate(p)).toEqual([]);
    expect((await p.query('SELECT id FROM api_keys')).rows).toEqual([{ id: 'key_1' }]);
  });

  it('refuses a database that a newer build has migrated, changing nothing', async () => {
    const p = pool();
    await p.query("INSERT INTO schema_migrations (version, description) VALUES (9999, 'from the future')");
    try {
      const refused = await migrate(p, [...MIGRATIONS, { version: 10_000, description: 'next', sql: 'CREATE TABLE never (id int)' }]).catch((e) => e);
      expect(refused).toBeInstanceOf(SchemaTooNew);
      expect(refused.message).toContain('9999');
      expect((await p.query("SELECT to_regclass('never') AS t")).rows[0].t).toBeNull();
    } finally {
      await p.query('DELETE FROM schema_migrations WHERE version = 9999');
    }
  });

  it('applies a new migration once, leaving the earlier ones as they are; a failing one rolls back whole', async () => {
    const p = pool();
    const next = [...MIGRATIONS, { version: 100, description: 'test: one more table', sql: 'CREATE TABLE migration_probe (id int)' }];
    expect(await migrate(p, next)).toEqual([100]);
    expect(await migrate(p, next)).toEqual([]);
    const broken = [...next, { version: 101, description: 'test: fails halfway', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function()' }];
    await expect(migrate(p, broken)).rejects.toThrow(/no_such_function/);
    expect((await p.query("SELECT to_regclass('half_done') AS t")).rows[0].t).toBeNull();
    expect((await p.query('SELECT max(version) AS v FROM schema_migrations')).rows[0].v).toBe(100);
  });
});
