import { Inject, InjectionToken, OnApplicationShutdown, Provider } from '@nestjs/common';
import { Services } from './composition-root';
import { AppLogger } from './logging/logger';

// How the Nest modules take their providers from the one composition root instead of wiring their own.

/** DI token of the Services the composition root built for this app. */
export const SERVICES = Symbol('Services');

/** A provider that is one of the composition root's services. */
export function fromServices<T>(token: InjectionToken, pick: (services: Services) => T): Provider {
  return { provide: token, useFactory: pick, inject: [SERVICES] };
}

const FINAL_CATCH_UP_MS = 5000;

/** After beforeApplicationShutdown, where requests drain and the projection stops: nothing uses the stores any more. */
export class ServicesLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(SERVICES) private readonly services: Services,
    @Inject(AppLogger) private readonly logger: AppLogger,
  ) {}
  async onApplicationShutdown() {
    // Writes are answered before the read model has them: once they have drained, the projection
    // applies what they wrote (here, or in the instance holding its lease), so that a clean stop
    // leaves the read model at the store's head. Bounded: a read model that cannot commit does not hold the stop up.
    if (this.services.access === 'read-write') await this.services.projection.waitForHead(FINAL_CATCH_UP_MS).catch(() => undefined);
    const checkpoint = await this.services.readModel.checkpoint().catch(() => null);
    await this.services.close();
    this.logger.info({ checkpoint }, 'stopped: the projection at its checkpoint, the stores closed');
  }
}
