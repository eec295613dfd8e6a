import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { Store, storage } from 'nestjs-pino/storage';
import pino from 'pino';
import { pinoHttp } from 'pino-http';

/**
 * One line per request, written when its answer is finished: request id, method, route pattern,
 * status and duration, and nothing else. The request itself is never serialized (quietReqLogger),
 * so no header, path, query or body can reach a log; the lines the app writes while serving it go
 * through the request's logger and carry its request_id: it is bound for the whole request, as
 * nestjs-pino's LoggerModule would bind it (whose middleware Nest would mount as a catch-all route,
 * which the 405 check would take for a route of every path).
 */
export function requestLogging(options: {
  logger: pino.Logger;
  /** Gives the request its id (src/http/request-context.ts). */
  requestId: (request: IncomingMessage, response: ServerResponse) => string;
  routeOf: (request: Request) => string | null;
  /** false: only the request's logger, no line per request (LOG_REQUESTS=false). */
  logEachRequest: boolean;
}): RequestHandler {
  const line = (request: IncomingMessage, response: ServerResponse, value: { duration_ms: number }) => ({
    method: request.method,
    route: options.routeOf(request as Request),
    status: response.statusCode,
    duration_ms: value.duration_ms,
  });
  const logging = pinoHttp({
    logger: options.logger,
    genReqId: options.requestId,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    // Only what is listed above: pino-http's own objects would carry the path and the headers.
    serializers: { req: (request: IncomingMessage) => ({ method: request.method }), res: () => ({}), err: (error: Error) => ({ type: error.name }) },
    customSuccessObject: line,
    customErrorObject: (request, response, _error, value: { duration_ms: number }) => line(request, response, value),
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request',
    customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : 'info'),
    autoLogging: options.logEachRequest,
  });
  return (request, response, next) => logging(request, response, () => storage.run(new Store(request.log), next));
}
