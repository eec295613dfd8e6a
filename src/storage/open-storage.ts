import { AccountReadModel } from '../accounts/projection/account-read-model.port';
import { ApiKeyStore } from '../auth/api-key-store.port';
import { DataKeyStore } from '../crypto/data-key-store.port';
import { EventStore } from './event-store.port';
import {
  openSqliteAccountReadModel,
  openSqliteApiKeyStore,
  openSqliteDataKeyStore,
  openSqliteEventStore,
} from './sqlite/sqlite-storage';
import { StoreAccess } from './store-access';

// One function per port chooses its adapter from the configuration (EVENT_STORE, READ_MODEL):
// the only place that knows which adapters exist. SQLite is the only one in this build.

export interface StorageConfig {
  dataDir: string;
  eventStore: 'sqlite';
  readModel: 'sqlite';
}

export function openEventStore(config: StorageConfig, access: StoreAccess): EventStore {
  switch (config.eventStore) {
    case 'sqlite':
      return openSqliteEventStore(config.dataDir, access);
  }
}

export function openAccountReadModel(config: StorageConfig, access: StoreAccess): AccountReadModel {
  switch (config.readModel) {
    case 'sqlite':
      return openSqliteAccountReadModel(config.dataDir, access);
  }
}

/** Data keys live with the read models (SPEC §1: the key store follows READ_MODEL). */
export function openDataKeyStore(config: StorageConfig, access: StoreAccess): DataKeyStore {
  switch (config.readModel) {
    case 'sqlite':
      return openSqliteDataKeyStore(config.dataDir, access);
  }
}

export function openApiKeyStore(config: StorageConfig, access: StoreAccess): ApiKeyStore {
  switch (config.readModel) {
    case 'sqlite':
      return openSqliteApiKeyStore(config.dataDir, access);
  }
}

export interface Storage {
  eventStore: EventStore;
  readModel: AccountReadModel;
  dataKeys: DataKeyStore;
  apiKeyStore: ApiKeyStore;
  close(): Promise<void>;
}

/** Every port opened, or none: a port that fails to open closes the ones opened before it. */
export function openStorage(config: StorageConfig, access: StoreAccess): Storage {
  const opened: { close(): Promise<void> }[] = [];
  const open = <T extends { close(): Promise<void> }>(port: T): T => (opened.push(port), port);
  const close = async () => {
    for (const port of [...opened].reverse()) await port.close();
  };
  try {
    return {
      eventStore: open(openEventStore(config, access)),
      readModel: open(openAccountReadModel(config, access)),
      dataKeys: open(openDataKeyStore(config, access)),
      apiKeyStore: open(openApiKeyStore(config, access)),
      close,
    };
  } catch (error) {
    void close();
    throw error;
  }
}
