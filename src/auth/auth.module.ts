import { Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Clock } from '../kernel/clock';
import { IdFactory } from '../kernel/ids';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyStore } from './api-key-store.port';
import { ApiKeys } from './api-keys';

/** ACCOUNTS_BOOTSTRAP_KEY. A first-start key is made by main once it listens (first-key.ts), never here. */
class KeyBootstrap implements OnApplicationBootstrap {
  constructor(
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap() {
    if (this.config.bootstrapKey) await this.apiKeys.ensureBootstrapKey(this.config.bootstrapKey);
  }
}

@Module({
  providers: [
    { provide: ApiKeys, useFactory: (store: ApiKeyStore, ids: IdFactory, clock: Clock) => new ApiKeys(store, ids, clock), inject: [ApiKeyStore, IdFactory, Clock] },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    KeyBootstrap,
  ],
})
export class AuthModule {}
