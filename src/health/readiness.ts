import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppLogger } from '../logging/logger';
import { SERVICES } from '../nest-services';
import { Services } from '../composition-root';

/** Each store gets this long to answer its probe: probes (Kubernetes: 1 s by default) must not wait longer. */
export const STORE_CHECK_TIMEOUT_MS = 1000;

class TimedOut extends Error {
  override name = 'TimedOut';
}

/**
 * What /health/ready checks: every port's store answers a cheap query, and the read model is at
 * most READY_MAX_LAG_MS behind the event store with its projection following it. Answers say up or
 * down and why in a word; the error itself (which could name a host) goes to the log only.
 */
@Injectable()
export class Readiness {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(SERVICES) private readonly services: Services,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  /** One check per port, each with the query that costs least on every adapter. */
  storeChecks(): (() => Promise<HealthIndicatorResult>)[] {
    const { eventStore, readModel, dataKeys, apiKeyStore } = this.services;
    return [
      () => this.reachable('event_store', () => eventStore.headPosition()),
      () => this.reachable('read_model', () => readModel.checkpoint()),
      () => this.reachable('data_keys', () => dataKeys.masterKeyCheck()),
      () => this.reachable('api_keys', () => apiKeyStore.count()),
    ];
  }

  async projection(): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('projection');
    const maxLagMs = this.config.readyMaxLagMs;
    try {
      const reading = await withTimeout(this.services.projectionLag.read());
      const state = { following: reading.following, lag_ms: reading.lagMs, max_lag_ms: maxLagMs };
      return reading.following && reading.lagMs <= maxLagMs ? session.up(state) : session.down(state);
    } catch (error) {
      return session.down({ reason: this.failure('projection', error) });
    }
  }

  private async reachable(key: string, probe: () => Promise<unknown>): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(key);
    try {
      await withTimeout(probe());
      return session.up();
    } catch (error) {
      return session.down({ reason: this.failure(key, error) });
    }
  }

  private failure(check: string, error: unknown): string {
    const { name, code } = error instanceof Error ? (error as Error & { code?: unknown }) : { name: 'unknown', code: undefined };
    this.logger.warn({ check, error: name, ...(typeof code === 'string' ? { code } : {}) }, 'readiness check failed');
    return error instanceof TimedOut ? `no answer within ${STORE_CHECK_TIMEOUT_MS} ms` : 'unreachable';
  }
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut()), STORE_CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
