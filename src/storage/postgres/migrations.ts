import { Pool } from 'pg';
import { LOCK_CLASS, LOCKS } from './advisory-locks';
import { inTransaction } from './postgres-pool';

export interface Migration {
  /** Applied in increasing order, each exactly once; never renumbered or edited once released. */
  version: number;
  description: string;
  sql: string;
}

/** How many hash partitions hold the data keys: a destroy rewrites one of them (PostgresDataKeyStore). */
export const DATA_KEY_PARTITIONS = 64;

// Text that is compared or ordered (ids, timestamps, positions) uses the "C" collation: byte order,
// the same as the service's string comparisons, whatever the database's default collation.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'event store: one table, a global position, one revision per stream',
    // data and metadata are text, not jsonb: jsonb reorders keys, and the hash chain hashes the
    // event exactly as it reads back (docs/EVENTS.md, prev_hash).
    sql: `
      CREATE TABLE events (
        position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        stream      text COLLATE "C" NOT NULL,
        revision    bigint NOT NULL CHECK (revision >= 0),
        event_id    text NOT NULL,
        type        text NOT NULL,
        data        text NOT NULL,
        metadata    text NOT NULL,
        recorded_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT events_stream_revision UNIQUE (stream, revision),
        CONSTRAINT events_event_id UNIQUE (event_id)
      );`,
  },
  {
    version: 2,
    description: 'account read model and projection checkpoints',
    // One index per combination of list filters, as in the SQLite read model: the tenant and the
    // filters by equality, then the list's order (created_at, id).
    sql: `
      CREATE TABLE projection_checkpoints (
        projection text COLLATE "C" PRIMARY KEY,
        position   text COLLATE "C" NOT NULL
      );
      CREATE TABLE accounts (
        id              text COLLATE "C" PRIMARY KEY,
        organization_id text COLLATE "C" NOT NULL,
        environment     text COLLATE "C" NOT NULL,
        status          text COLLATE "C" NOT NULL,
        external_id     text COLLATE "C",
        entity_type     text COLLATE "C" NOT NULL,
        sessions        text NOT NULL,
        documents       text NOT NULL,
        created_at      text COLLATE "C" NOT NULL,
        updated_at      text,
        redacted_at     text,
        sealed_personal text,
        revision        bigint NOT NULL
      );
      CREATE INDEX accounts_newest ON accounts (organization_id, environment, created_at, id);
      CREATE INDEX accounts_by_status ON accounts (organization_id, environment, status, created_at, id);
      CREATE INDEX accounts_by_entity_type ON accounts (organization_id, environment, entity_type, created_at, id);
      CREATE INDEX accounts_by_status_and_entity_type ON accounts (organization_id, environment, status, entity_type, created_at, id);
      CREATE INDEX accounts_by_external_id ON accounts (organization_id, environment, external_id);`,
  },
  {
    version: 3,
    description: 'data keys in hash partitions, pending erasures, the master-key check value',
    // Partitions keep the rewrite a destroy does small (PostgresDataKeyStore.destroy). PLAIN
    // storage keeps every wrapped key (60 bytes) inline in its heap tuple, never compressed or moved
    // to a TOAST table, so it lives only where the erasure rewrites and where its proof looks.
    sql: `
      CREATE TABLE data_keys (
        account_id  text COLLATE "C" PRIMARY KEY,
        wrapped_key bytea NOT NULL
      ) PARTITION BY HASH (account_id);
      DO $$
      BEGIN
        FOR remainder IN 0..${DATA_KEY_PARTITIONS - 1} LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF data_keys FOR VALUES WITH (MODULUS ${DATA_KEY_PARTITIONS}, REMAINDER %s)',
            'data_keys_p' || lpad(remainder::text, 2, '0'), remainder);
        END LOOP;
      END $$;
      ALTER TABLE data_keys ALTER COLUMN wrapped_key SET STORAGE PLAIN;
      CREATE TABLE data_key_erasures (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id text NOT NULL,
        partition  text NOT NULL,
        -- The transaction that deleted the key: its row is removable once no snapshot predates it.
        deleted_by xid8 NOT NULL DEFAULT pg_current_xact_id()
      );
      CREATE TABLE master_key_check (
        id    integer PRIMARY KEY CHECK (id = 1),
        value text NOT NULL
      );`,
  },
  {
    version: 4,
    description: 'API keys (hashes only)',
    sql: `
      CREATE TABLE api_keys (
        id              text COLLATE "C" PRIMARY KEY,
        organization_id text NOT NULL,
        environment     text NOT NULL,
        scopes          text NOT NULL,
        hint            text NOT NULL,
        hash            text COLLATE "C" NOT NULL UNIQUE,
        created_at      text COLLATE "C" NOT NULL,
        revoked_at      text
      );`,
  },
  {
    version: 5,
    description: "the deployment's own keys (audit seal, external-id naming), wrapped under the master key",
    sql: `
      CREATE TABLE deployment_keys (
        purpose     text COLLATE "C" PRIMARY KEY,
        wrapped_key bytea NOT NULL
      );`,
  },
  {
    version: 6,
    description: "the accounts' linked sessions and documents, one row per link, for filter[session] and filter[document]",
    // As in the SQLite read model: the tenant, the relationship and the id by equality, then the
    // list's order. Filled from the rows' own lists, which no write could fill before.
    sql: `
      CREATE TABLE account_links (
        account_id      text COLLATE "C" NOT NULL,
        relationship    text COLLATE "C" NOT NULL,
        related_id      text COLLATE "C" NOT NULL,
        organization_id text COLLATE "C" NOT NULL,
        environment     text COLLATE "C" NOT NULL,
        created_at      text COLLATE "C" NOT NULL,
        PRIMARY KEY (account_id, relationship, related_id)
      );
      CREATE INDEX account_links_lookup ON account_links (organization_id, environment, relationship, related_id, created_at, account_id);
      INSERT INTO account_links (account_id, relationship, related_id, organization_id, environment, created_at)
        SELECT accounts.id, 'sessions', linked.value, accounts.organization_id, accounts.environment, accounts.created_at
        FROM accounts, jsonb_array_elements_text(accounts.sessions::jsonb) AS linked
        UNION
        SELECT accounts.id, 'documents', linked.value, accounts.organization_id, accounts.environment, accounts.created_at
        FROM accounts, jsonb_array_elements_text(accounts.documents::jsonb) AS linked;`,
  },
  {
    version: 7,
    description: 'idempotency records: one per (tenant, Idempotency-Key hash), with its lease, subject and answer',
    // Times are milliseconds since the epoch, by the service's clock. The subject index serves the
    // purge on redaction; the age index, the sweep of records older than 24 hours.
    sql: `
      CREATE TABLE idempotency_records (
        organization_id text COLLATE "C" NOT NULL,
        environment     text COLLATE "C" NOT NULL,
        key_hash        text COLLATE "C" NOT NULL,
        fingerprint     text,
        subject         text COLLATE "C",
        owner           text,
        lease_until     bigint NOT NULL,
        created_at      bigint NOT NULL,
        status          integer,
        headers         text,
        body            text,
        sealed          boolean NOT NULL DEFAULT false,
        PRIMARY KEY (organization_id, environment, key_hash)
      );
      CREATE INDEX idempotency_records_by_subject ON idempotency_records (subject) WHERE subject IS NOT NULL;
      CREATE INDEX idempotency_records_by_age ON idempotency_records (created_at);`,
  },
  {
    version: 8,
    description: 'API keys: a generation every change to api_keys counts, which validates the key cache of each instance',
    sql: `
      CREATE TABLE api_key_generation (
        id integer PRIMARY KEY CHECK (id = 1),
        n  bigint NOT NULL
      );
      INSERT INTO api_key_generation VALUES (1, 0);
      CREATE FUNCTION api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE api_key_generation SET n = n + 1 WHERE id = 1;
        RETURN NULL;
      END $$;
      CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys
        FOR EACH ROW EXECUTE FUNCTION api_keys_changed();`,
  },
];

/** The database was migrated by a newer build than this one: running on it could corrupt it. */
export class SchemaTooNew extends Error {
  constructor(readonly unknownVersions: number[]) {
    super(`The database schema has migrations this build does not know (${unknownVersions.join(', ')}): run a newer build`);
    this.name = 'SchemaTooNew';
  }
}

/** The migrations not yet applied (all of them on an empty database); writes nothing. */
export async function pendingMigrations(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const { rows: table } = await pool.query("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'");
  const applied = new Set(table.length ? (await pool.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((row) => row.version) : []);
  return migrations.filter((m) => !applied.has(m.version)).map((m) => m.version);
}

/**
 * Brings the schema up to date: applies, in order and in one transaction, every migration not yet
 * recorded in schema_migrations. Under a transaction-level advisory lock, so instances starting at
 * once (and `cli migrate`) queue instead of racing; the later ones find nothing left to do. Returns
 * the versions it applied (none when the schema was current).
 */
export async function migrate(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCKS.migrations]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version     integer PRIMARY KEY,
        description text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const unknown = [...applied].filter((version) => !migrations.some((m) => m.version === version)).sort((a, b) => a - b);
    if (unknown.length) throw new SchemaTooNew(unknown);
    const pending = migrations.filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version);
    for (const migration of pending) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [migration.version, migration.description]);
    }
    return pending.map((m) => m.version);
  });
}
