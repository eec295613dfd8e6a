import { Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiKeyThrottlerGuard } from './api-key-throttler.guard';
import { RequestTimeoutInterceptor } from './request-timeout.interceptor';

/** Per-key rate limits and request timeouts. Imported after the auth module, so the key guard runs first. */
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
    { provide: APP_INTERCEPTOR, useClass: RequestTimeoutInterceptor },
  ],
})
export class LimitsModule {}
