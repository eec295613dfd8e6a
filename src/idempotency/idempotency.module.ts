import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { AppLogger } from '../logging/logger';
import { fromServices } from '../nest-services';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotentRequests } from './idempotent-requests';

/** Records older than a day are swept this often (and a reservation replaces an expired record anyway). */
const SWEEP_EVERY_MS = 10 * 60 * 1000;

class IdempotencySweeping implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(IdempotentRequests) private readonly requests: IdempotentRequests,
    @Inject(AppLogger) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap() {
    const sweep = () =>
      void this.requests.sweep().catch((error: unknown) => this.logger.error({ error: error instanceof Error ? error.name : 'unknown' }, 'idempotency sweep failed; retrying later'));
    sweep();
    this.timer = setInterval(sweep, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown() {
    clearInterval(this.timer);
  }
}

/** Idempotency-Key on every POST of every slice: a slice imports this module, and declares its POST routes with IdempotentPost. */
@Module({
  providers: [fromServices(IdempotentRequests, (s) => s.idempotency), IdempotencyInterceptor, IdempotencySweeping],
  exports: [IdempotentRequests, IdempotencyInterceptor],
})
export class IdempotencyModule {}
