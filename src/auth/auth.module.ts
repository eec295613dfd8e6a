import { Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { fromServices } from '../nest-services';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeys } from './api-keys';

/** ACCOUNTS_BOOTSTRAP_KEY, or on a first start outside production, one staging key printed once. */
class KeyBootstrap implements OnApplicationBootstrap {
  constructor(
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap() {
    if (this.config.bootstrapKey) return this.apiKeys.ensureBootstrapKey(this.config.bootstrapKey);
    if (this.config.production) return;
    const key = await this.apiKeys.createFirstStartKey();
    // Printed to the terminal, not logged: the only time this key is ever shown.
    if (key) process.stdout.write(`\nFirst start: created a staging API key with every scope. It is shown only now:\n\n  ${key}\n\n`);
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
