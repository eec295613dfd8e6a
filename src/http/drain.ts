import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppLogger } from '../logging/logger';

/**
 * The first step of a shutdown (SIGTERM, or app.close()): stop accepting connections and let the
 * requests in flight finish, before anything they use stops (the projection, then the stores, in
 * onApplicationShutdown). Nest's own server.close() would wait without bound: for a keep-alive
 * connection a client keeps sending on, and for a request that never completes. Here a connection
 * is closed as soon as its request is answered, and whatever is still in flight after
 * SHUTDOWN_TIMEOUT_MS is cut off, so the process always ends.
 */
@Injectable()
export class HttpDrain implements BeforeApplicationShutdown {
  constructor(
    private readonly host: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  async beforeApplicationShutdown(signal?: string) {
    const server = this.host.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    const started = Date.now();
    this.logger.info({ signal: signal ?? null, timeout_ms: this.config.shutdownTimeoutMs }, 'shutting down: no new connections, draining requests in flight');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A keep-alive connection becomes idle once its request is answered: closed then, not left open.
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), 20);
    const deadline = new AbortController();
    const drained = await Promise.race([closed.then(() => true), delay(this.config.shutdownTimeoutMs, false, { signal: deadline.signal }).catch(() => true)]);
    deadline.abort();
    clearInterval(sweep);
    if (!drained) {
      server.closeAllConnections();
      this.logger.warn({ timeout_ms: this.config.shutdownTimeoutMs }, 'requests still in flight after SHUTDOWN_TIMEOUT_MS were cut off');
    }
    this.logger.info({ duration_ms: Date.now() - started, drained }, 'requests drained');
  }
}
