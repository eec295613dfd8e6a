import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { RequestHandler, Response } from 'express';
import { EventEmitter, once } from 'node:events';
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppLogger } from '../logging/logger';

/**
 * Requests whose handler has not answered yet, whether or not their client still listens. A client
 * that hangs up mid-request closes its connection (so the server may count as closed) while its
 * handler still runs, and will still write to the stores: the drain waits for the answer, not the
 * connection.
 */
@Injectable()
export class RequestsInFlight {
  private count = 0;
  private readonly changes = new EventEmitter();

  /** Registered first: counts every request from its arrival to its answer. */
  readonly track: RequestHandler = (_request, response, next) => {
    this.count += 1;
    let counted = true;
    const answered = () => {
      if (!counted) return;
      counted = false;
      this.count -= 1;
      if (this.count === 0) this.changes.emit('none');
    };
    response.once('finish', answered);
    // A response to a client that left never finishes: it is answered when its handler ends it.
    response.once('close', () => (response.writableEnded ? answered() : onEnd(response, answered)));
    next();
  };

  /** Resolves once no request is in flight (at once if none is). */
  async none(signal: AbortSignal): Promise<void> {
    if (this.count > 0) await once(this.changes, 'none', { signal });
  }
}

/** Calls `then` once the handler ends the response (res.end), after whatever end does. */
function onEnd(response: Response, then: () => void): void {
  const end = response.end.bind(response) as (...args: unknown[]) => Response;
  response.end = ((...args: unknown[]) => {
    const ended = end(...args);
    then();
    return ended;
  }) as Response['end'];
}

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
    private readonly inFlight: RequestsInFlight,
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
    // Closed connections are not enough: a request whose client left may still be running.
    const answered = closed.then(() => this.inFlight.none(deadline.signal)).then(() => true, () => false);
    const drained = await Promise.race([answered, delay(this.config.shutdownTimeoutMs, false, { signal: deadline.signal }).catch(() => true)]);
    deadline.abort();
    clearInterval(sweep);
    if (!drained) {
      server.closeAllConnections();
      this.logger.warn({ timeout_ms: this.config.shutdownTimeoutMs }, 'requests still in flight after SHUTDOWN_TIMEOUT_MS were cut off');
    }
    this.logger.info({ duration_ms: Date.now() - started, drained }, 'requests drained');
  }
}
