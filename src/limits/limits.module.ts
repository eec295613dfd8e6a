import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiKeyThrottlerGuard } from './api-key-throttler.guard';

/** Per-key rate limits (the request timeout is a middleware: src/limits/request-timeout.ts). Imported after the auth module, so the key guard runs first. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      // RATE_LIMIT_PER_MINUTE=0 (no limit) is the guard's to skip.
      useFactory: (config: AppConfig) => ({ throttlers: [{ name: 'default', ttl: 60_000, limit: Math.max(1, config.rateLimitPerMinute) }] }),
    }),
  ],
  providers: [
    { provide: APP_GUARD, useClass: ApiKeyThrottlerGuard },
  ],
})
export class LimitsModule {}
