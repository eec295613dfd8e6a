import type { NextFunction, Request, Response } from 'express';
import { IdFactory } from '../kernel/ids';
import { JsonLogger } from './json-logger';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id (the client's X-Request-Id when sane), echoes it, logs the outcome. */
export function requestContext(ids: IdFactory, logger: JsonLogger, logRequests: boolean) {
  return (request: Request, response: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const fromClient = request.header('x-request-id');
    const requestId = fromClient && CLIENT_ID.test(fromClient) ? fromClient : ids.requestId();
    const correlation = request.header('x-correlation-id');
    Object.assign(request, { requestId, correlationId: correlation && CLIENT_ID.test(correlation) ? correlation : requestId });
    response.setHeader('X-Request-Id', requestId);
    if (logRequests) {
      response.on('finish', () => {
        logger.event('info', 'request', {
          request_id: requestId,
          method: request.method,
          // The route pattern, not the path: a client may put anything in a path (an email, say).
          route: (request.route as { path?: string } | undefined)?.path ?? null,
          status: response.statusCode,
          duration_ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        });
      });
    }
    next();
  };
}
