import type { Request, RequestHandler } from 'express';
import { Metrics } from './metrics';

/** Counts and times every answer by method, route pattern and status: first in line, so it sees the refusals of middleware too. */
export function httpMetrics(metrics: Metrics, routeOf: (request: Request) => string | null): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      metrics.observeRequest(request.method, routeOf(request), response.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
