import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import { AppModule } from './app.module';
import { createServices, ServicesOptions } from './composition-root';
import { AppConfig } from './config/app-config';
import { authenticateRequest } from './auth/api-key.guard';
import { ApiKeys } from './auth/api-keys';
import { RequestsInFlight } from './http/drain';
import { jsonBody } from './http/json-body';
import { turnBudget } from './http/turn-budget';
import { methodNotAllowed, routePatternOf, RouterLayers } from './http/method-not-allowed';
import { assignRequestIds } from './http/request-context';
import { Clock } from './kernel/clock';
import { IdFactory } from './kernel/ids';
import { AppLogger, createRootLogger, LogSink, NestLogs } from './logging/logger';
import { requestLogging } from './logging/request-logging';
import { requestTimeout } from './limits/request-timeout';
import { httpMetrics } from './metrics/http-metrics';
import { MeteredEventStore } from './metrics/metered-event-store';
import { Metrics } from './metrics/metrics';
import { createOpenApiDocument, serveOpenApi } from './openapi/openapi-document';

/**
 * Requests that may start their work in one turn of the event loop (turn-budget.ts): a create costs
 * about a millisecond of CPU before its first store call, so a turn stays within a few milliseconds
 * however many clients send at once. Measured under 50 clients creating: event-loop p99 31-33 ms
 * with 4, 43-46 ms with 8, 66-78 ms with no budget, at the same throughput.
 */
const REQUESTS_PER_TURN = 4;

export interface CreateAppOptions {
  clock?: Clock;
  /** Receives each log line; default: stdout. */
  log?: LogSink;
  /** For tests: doubles in front of the stores, shorter idempotency leases. */
  servicesOptions?: Pick<ServicesOptions, 'decorate' | 'idempotency'>;
}

/** Builds the HTTP app exactly as it runs in production; the e2e tests use this too. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const logger = new AppLogger(createRootLogger(config.logLevel, options.log));
  const metrics = new Metrics();
  // The stores open before Nest starts: one that cannot (an unreachable DATABASE_URL, say) is one
  // error for the caller, rather than one Nest also logs from inside its injector.
  const services = await createServices(config, {
    ...options.servicesOptions,
    clock: options.clock,
    logger: logger.root,
    decorate: {
      ...options.servicesOptions?.decorate,
      eventStore: (store) => new MeteredEventStore(options.servicesOptions?.decorate?.eventStore?.(store) ?? store, metrics),
    },
  });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger, { services, metrics }), {
    bodyParser: false,
    logger: new NestLogs(logger),
    abortOnError: false,
  }).catch(async (error: unknown) => {
    await services.close();
    throw error;
  });
  app.disable('x-powered-by');
  // Express's own typings still describe Express 4's router; method-not-allowed.ts says what it reads of 5's.
  const express = app.getHttpAdapter().getInstance() as unknown as { router: RouterLayers };
  const routeOf = (request: { route?: unknown; path: string }) => routePatternOf(express.router, request);
  // First: a shutdown waits for every request to be answered (drain.ts), and every answer, refusals
  // of the middleware below included, is counted and logged.
  app.use(app.get(RequestsInFlight).track);
  app.use(httpMetrics(app.get(Metrics), routeOf));
  app.use(requestLogging({ logger: logger.root, requestId: assignRequestIds(app.get(IdFactory)), routeOf, logEachRequest: config.logRequests }));
  app.use(
    helmet({
      // JSON answers need no sources at all; Swagger UI (/docs) needs its own scripts and styles and inline styles.
      contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'], scriptSrc: ["'self'"] } },
    }),
  );
  // Before the API's own middleware: Swagger UI's files keep their own media types, and need no key.
  serveOpenApi(app, createOpenApiDocument(app, config));
  app.use(methodNotAllowed(() => express.router));
  app.use(authenticateRequest(app.get(ApiKeys)));
  app.use(jsonBody());
  // The time the handler takes is bounded, not the key check or the receiving of the body.
  app.use(requestTimeout(config.requestTimeoutMs));
  // Last, once a request's body is in: from here on its work is CPU until its first store call.
  app.use(turnBudget(REQUESTS_PER_TURN));
  app.enableShutdownHooks();
  // Receiving a request (headers and body) is bounded like answering it (src/limits/request-timeout.ts).
  const server = app.getHttpServer() as Server;
  server.requestTimeout = config.requestTimeoutMs;
  server.headersTimeout = Math.min(server.headersTimeout, config.requestTimeoutMs);
  await app.init();
  return app;
}
