import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AppLogger } from '../logging/logger';
import { Metrics } from './metrics';

/**
 * METRICS_PORT: /metrics on a port of its own, for deployments that keep metrics off the port
 * clients reach. Nothing else is served there; it closes with the app.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: Server | null = null;

  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  async onApplicationBootstrap() {
    if (this.config.metricsPort === null) return;
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
        response.writeHead(path === '/metrics' ? 405 : 404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(path === '/metrics' ? 'GET only\n' : 'Only /metrics is served here\n');
        return;
      }
      this.metrics.render().then(
        (text) => response.writeHead(200, { 'Content-Type': this.metrics.contentType, 'Cache-Control': 'no-store' }).end(request.method === 'HEAD' ? undefined : text),
        () => response.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new Error(`METRICS_PORT ${this.config.metricsPort} is in use: stop what holds it, or set METRICS_PORT to another port`) : error),
      );
      server.listen(this.config.metricsPort!, () => resolve());
    });
    this.server = server;
    this.logger.info({ port: (server.address() as AddressInfo).port }, 'metrics listening');
  }

  beforeApplicationShutdown() {
    const server = this.server;
    this.server = null;
    if (!server) return;
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The port it listens on (METRICS_PORT=0 takes any free one), or null. */
  port(): number | null {
    return this.server ? (this.server.address() as AddressInfo).port : null;
  }
}
