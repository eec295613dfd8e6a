import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AccountReadModel } from '../accounts/projection/account-read-model.port';
import { ApiKeyStore } from '../auth/api-key-store.port';
import { AppConfig } from '../config/app-config';
import { DataKeyStore } from '../crypto/data-key-store.port';
import { loadOrCreateMasterKeyFile, MASTER_KEY, verifyMasterKey } from '../crypto/master-key';
import { PersonalDataCipher } from '../crypto/personal-data-cipher';
import { EventStore, START } from './event-store.port';
import { SqliteStorage } from './sqlite/sqlite-storage';

class StorageLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SqliteStorage) private readonly storage: SqliteStorage) {}
  // After beforeApplicationShutdown, where the projection stops: nothing uses the files any more.
  onApplicationShutdown() {
    return this.storage.close();
  }
}

/** Binds every storage port to its adapter; the rest of the app sees only the ports. */
@Global()
@Module({})
export class StorageModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: StorageModule,
      providers: [
        { provide: SqliteStorage, useFactory: () => new SqliteStorage(config.dataDir) },
        { provide: EventStore, useFactory: (s: SqliteStorage) => s.eventStore, inject: [SqliteStorage] },
        { provide: AccountReadModel, useFactory: (s: SqliteStorage) => s.readModel, inject: [SqliteStorage] },
        { provide: DataKeyStore, useFactory: (s: SqliteStorage) => s.dataKeys, inject: [SqliteStorage] },
        { provide: ApiKeyStore, useFactory: (s: SqliteStorage) => s.apiKeys, inject: [SqliteStorage] },
        {
          provide: MASTER_KEY,
          useFactory: async (s: SqliteStorage) => {
            const dataExists = (await s.eventStore.headPosition()) !== START;
            const masterKey = config.masterKey ?? loadOrCreateMasterKeyFile(config.dataDir, { dataExists });
            await verifyMasterKey(masterKey, s.dataKeys);
            return masterKey;
          },
          inject: [SqliteStorage],
        },
        {
          provide: PersonalDataCipher,
          useFactory: (masterKey: Buffer, keys: DataKeyStore) => new PersonalDataCipher(masterKey, keys),
          inject: [MASTER_KEY, DataKeyStore],
        },
        StorageLifecycle,
      ],
      exports: [EventStore, AccountReadModel, DataKeyStore, ApiKeyStore, PersonalDataCipher, MASTER_KEY],
    };
  }
}
