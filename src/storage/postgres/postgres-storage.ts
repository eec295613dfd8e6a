import { Pool } from 'pg';
import { StoreAccess, StoreMissing } from '../store-access';
import { migrate, pendingMigrations } from './migrations';
import { PostgresAccountReadModel } from './postgres-account-read-model';
import { PostgresApiKeyStore } from './postgres-api-key-store';
import { PostgresDataKeyStore, PostgresDataKeyStoreOptions } from './postgres-data-key-store';
import { PostgresEventStore } from './postgres-event-store';
import { PostgresIdempotencyStore } from './postgres-idempotency-store';
import { createPostgresPool, describeDatabaseUrl, PostgresPoolOptions } from './postgres-pool';

export interface PostgresStorageOptions extends PostgresPoolOptions {
  dataKeys?: PostgresDataKeyStoreOptions;
  /** read-only (the reviewers' commands) neither migrates nor finishes erasures: it only checks the schema is there. */
  access?: StoreAccess;
}

/** PostgreSQL could not be reached or migrated. Names the database without its password. */
export class PostgresUnavailable extends Error {
  constructor(connectionString: string, cause: unknown) {
    super(`PostgreSQL at ${describeDatabaseUrl(connectionString)} (DATABASE_URL) is not usable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'PostgresUnavailable';
  }
}

/**
 * Every PostgreSQL adapter on one pool, the schema migrated first (`migrate`, also what
 * `cli migrate` runs). The composition root picks which of them to bind; whatever it leaves unused
 * costs nothing but its tables.
 */
export class PostgresStorage {
  readonly eventStore: PostgresEventStore;
  readonly readModel: PostgresAccountReadModel;
  readonly dataKeys: PostgresDataKeyStore;
  readonly apiKeys: PostgresApiKeyStore;
  readonly idempotency: PostgresIdempotencyStore;

  private constructor(
    readonly pool: Pool,
    options: PostgresStorageOptions,
  ) {
    this.eventStore = new PostgresEventStore(pool);
    this.readModel = new PostgresAccountReadModel(pool);
    this.dataKeys = new PostgresDataKeyStore(pool, options.dataKeys);
    this.apiKeys = new PostgresApiKeyStore(pool);
    this.idempotency = new PostgresIdempotencyStore(pool);
  }

  /** Connects, migrates, and finishes any erasure a process left half done (read-only: checks the schema only). */
  static async open(connectionString: string, options: PostgresStorageOptions = {}): Promise<PostgresStorage> {
    const pool = createPostgresPool(connectionString, options);
    let pending: number[] = [];
    try {
      if (options.access === 'read-only') pending = await pendingMigrations(pool);
      else await migrate(pool);
    } catch (error) {
      await pool.end();
      // Connection failures name the host and port, never the password; SQL errors name neither.
      throw new PostgresUnavailable(connectionString, error);
    }
    if (pending.length) {
      await pool.end();
      throw new StoreMissing(`${describeDatabaseUrl(connectionString)} (DATABASE_URL: its schema lacks migrations ${pending.join(', ')}; start the service or run cli migrate)`);
    }
    const storage = new PostgresStorage(pool, options);
    if (options.access !== 'read-only') await storage.dataKeys.finishErasures();
    return storage;
  }

  async close(): Promise<void> {
    this.dataKeys.stopRetrying();
    await this.eventStore.close();
    await this.pool.end();
  }
}
