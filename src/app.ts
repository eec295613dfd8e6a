import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import { AppModule, AppOverrides } from './app.module';
import { AppConfig } from './config/app-config';
import { authenticateRequest } from './auth/api-key.guard';
import { ApiKeys } from './auth/api-keys';
import { jsonBody } from './http/json-body';
import { methodNotAllowed, routePatternOf, RouterLayers } from './http/method-not-allowed';
import { assignRequestIds } from './http/request-context';
import { IdFactory } from './kernel/ids';
import { AppLogger, createRootLogger, LogSink, NestLogs } from './logging/logger';
import { requestLogging } from './logging/request-logging';
import { httpMetrics } from './metrics/http-metrics';
import { Metrics } from './metrics/metrics';
import { createOpenApiDocument, serveOpenApi } from './openapi/openapi-document';

export interface CreateAppOptions extends AppOverrides {
  /** Receives each log line; default: stdout. */
  log?: LogSink;
}

/** Builds the HTTP app exactly as it runs in production; the e2e tests use this too. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const logger = new AppLogger(createRootLogger(config.logLevel, options.log));
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger, { clock: options.clock }), {
    bodyParser: false,
    logger: new NestLogs(logger),
    abortOnError: false,
  });
  app.disable('x-powered-by');
  // Express's own typings still describe Express 4's router; method-not-allowed.ts says what it reads of 5's.
  const express = app.getHttpAdapter().getInstance() as unknown as { router: RouterLayers };
  const routeOf = (request: { route?: unknown; path: string }) => routePatternOf(express.router, request);
  // First: every answer, refusals of the middleware below included, is counted and logged.
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
  app.enableShutdownHooks();
  // Receiving a request (headers and body) is bounded like answering it (RequestTimeoutInterceptor).
  const server = app.getHttpServer() as Server;
  server.requestTimeout = config.requestTimeoutMs;
  server.headersTimeout = Math.min(server.headersTimeout, config.requestTimeoutMs);
  await app.init();
  return app;
}
