import { AccountReadModel } from '../accounts/projection/account-read-model.port';
import { ApiKeyStore } from '../auth/api-key-store.port';
import { AppConfig } from '../config/app-config';
import { DataKeyStore } from '../crypto/data-key-store.port';
import { IdempotencyStore } from '../idempotency/idempotency-store.port';
import { EventStore } from './event-store.port';
import { openEventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
import { PostgresStorage } from './postgres/postgres-storage';
import {
  openSqliteAccountReadModel,
  openSqliteApiKeyStore,
  openSqliteDataKeyStore,
  openSqliteEventStore,
  openSqliteIdempotencyStore,
} from './sqlite/sqlite-storage';
import { StoreAccess } from './store-access';

// One function per port chooses its adapter from the configuration (EVENT_STORE, READ_MODEL):
// the only place that knows which adapters exist. The read model's adapter also keeps the data keys,
// API keys and idempotency records: they live beside it (SQLite files in DATA_DIR, or the same
// PostgreSQL database).

export type StorageConfig = Pick<AppConfig, 'dataDir' | 'eventStore' | 'readModel' | 'databaseUrl' | 'eventStoreConnectionString'>;

/**
 * What the ports of one process share: one PostgreSQL pool (connected and migrated once), however
 * many ports use it. Closed after the ports.
 */
export class Backends {
  private postgres: Promise<PostgresStorage> | null = null;

  constructor(
    private readonly config: StorageConfig,
    private readonly access: StoreAccess,
  ) {}

  postgresStorage(): Promise<PostgresStorage> {
    // loadConfig makes sure DATABASE_URL is set whenever an adapter is postgres.
    this.postgres ??= PostgresStorage.open(this.config.databaseUrl!, { access: this.access });
    return this.postgres;
  }

  async close(): Promise<void> {
    const postgres = await this.postgres?.catch(() => null);
    await postgres?.close();
  }
}

export async function openEventStore(config: StorageConfig, access: StoreAccess, backends: Backends): Promise<EventStore> {
  switch (config.eventStore) {
    case 'sqlite':
      return openSqliteEventStore(config.dataDir, access);
    case 'postgres':
      return (await backends.postgresStorage()).eventStore;
    case 'eventstoredb':
      return openEventStoreDbEventStore(config.eventStoreConnectionString!);
  }
}

export async function openAccountReadModel(config: StorageConfig, access: StoreAccess, backends: Backends): Promise<AccountReadModel> {
  switch (config.readModel) {
    case 'sqlite':
      return openSqliteAccountReadModel(config.dataDir, access);
    case 'postgres':
      return (await backends.postgresStorage()).readModel;
  }
}

export async function openDataKeyStore(config: StorageConfig, access: StoreAccess, backends: Backends): Promise<DataKeyStore> {
  switch (config.readModel) {
    case 'sqlite':
      return openSqliteDataKeyStore(config.dataDir, access);
    case 'postgres':
      return (await backends.postgresStorage()).dataKeys;
  }
}

export async function openApiKeyStore(config: StorageConfig, access: StoreAccess, backends: Backends): Promise<ApiKeyStore> {
  switch (config.readModel) {
    case 'sqlite':
      return openSqliteApiKeyStore(config.dataDir, access);
    case 'postgres':
      return (await backends.postgresStorage()).apiKeys;
  }
}

export async function openIdempotencyStore(config: StorageConfig, access: StoreAccess, backends: Backends): Promise<IdempotencyStore> {
  switch (config.readModel) {
    case 'sqlite':
      return openSqliteIdempotencyStore(config.dataDir, access);
    case 'postgres':
      return (await backends.postgresStorage()).idempotency;
  }
}

export interface Storage {
  eventStore: EventStore;
  readModel: AccountReadModel;
  dataKeys: DataKeyStore;
  apiKeyStore: ApiKeyStore;
  idempotencyStore: IdempotencyStore;
  close(): Promise<void>;
}

type Ports = Omit<Storage, 'close'>;
const OPENERS: { [K in keyof Ports]: (config: StorageConfig, access: StoreAccess, backends: Backends) => Promise<Ports[K]> } = {
  eventStore: openEventStore,
  readModel: openAccountReadModel,
  dataKeys: openDataKeyStore,
  apiKeyStore: openApiKeyStore,
  idempotencyStore: openIdempotencyStore,
};

/**
 * The ports asked for (all of them by default), or none: a port that fails to open closes the ones
 * opened before it. Its close() closes each port, then what they share.
 */
export async function openStorage<K extends keyof Ports = keyof Ports>(
  config: StorageConfig,
  access: StoreAccess,
  only?: readonly K[],
): Promise<Pick<Ports, K> & { close(): Promise<void> }> {
  const backends = new Backends(config, access);
  const opened: { close(): Promise<void> }[] = [];
  const close = async () => {
    for (const port of [...opened].reverse()) await port.close();
    await backends.close();
  };
  try {
    const ports: Partial<Ports> = {};
    for (const name of only ?? (Object.keys(OPENERS) as K[])) {
      const port = await OPENERS[name](config, access, backends);
      opened.push(port);
      Object.assign(ports, { [name]: port });
    }
    return { ...(ports as Pick<Ports, K>), close };
  } catch (error) {
    await close();
    throw error;
  }
}
