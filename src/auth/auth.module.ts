import { Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { fromServices } from '../nest-services';
import { ApiKeyGuard } from './api-key.guard';
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
    fromServices(ApiKeys, (s) => s.apiKeys),
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    KeyBootstrap,
  ],
})
export class AuthModule {}
