import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard, ThrottlerLimitDetail, type ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { JsonApiError } from '../http/jsonapi-error';
import { Metrics } from '../metrics/metrics';

/**
 * RATE_LIMIT_PER_MINUTE per API key (@nestjs/throttler), over every route together: the key's id
 * is the tracker, so one client's loop cannot starve the others whatever address it comes from.
 * Answers carry RateLimit-Limit, -Remaining and -Reset; a refusal is a JSON:API 429 with
 * Retry-After. Requests without a valid key are the key guard's (401), public routes
 * (@SkipThrottle) are never limited, and RATE_LIMIT_PER_MINUTE=0 limits nothing. As a guard it runs before any interceptor, so a 429 is never
 * stored as an idempotent answer.
 */
@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  protected override headerPrefix = 'RateLimit';

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(options, storage, reflector);
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return this.config.rateLimitPerMinute === 0 || !context.switchToHttp().getRequest<AuthenticatedRequest>().apiKey;
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return (request as unknown as AuthenticatedRequest).apiKey!.id;
  }

  /** Per key and throttler, not per route as the default key is. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttler: string): string {
    return `${throttler}:${tracker}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, limit: ThrottlerLimitDetail): Promise<void> {
    this.metrics.recordRateLimited();
    const wait = String(limit.timeToBlockExpire);
    throw JsonApiError.of(429, 'rate_limited', `This API key made more than ${limit.limit} requests in ${limit.ttl / 1000} s: retry after ${wait} s`, {
      headers: { 'Retry-After': wait, 'RateLimit-Limit': String(limit.limit), 'RateLimit-Remaining': '0', 'RateLimit-Reset': wait },
    });
  }
}
