import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { Store, storage } from 'nestjs-pino/storage';
import pino from 'pino';

/**
 * One line per request, written when its answer is finished: request id, method, route pattern,
 * status and duration, and nothing else; no header, path, query or body can reach it. The lines the
 * app writes while serving a request go through the request's logger and carry its request_id: it
 * is bound for the whole request, as nestjs-pino's LoggerModule would bind it (whose middleware Nest
 * would mount as a catch-all route, which the 405 check would take for a route of every path).
 *
 * Not pino-http: it makes two child loggers per request (one serializing the request), whether or
 * not anything is logged. Here the request's logger is made when a line is first written with it.
 */
export function requestLogging(options: {
  logger: pino.Logger;
  /** Gives the request its id (src/http/request-context.ts). */
  requestId: (request: IncomingMessage, response: ServerResponse) => string;
  routeOf: (request: Request) => string | null;
  /** false: only the request's logger, no line per request (LOG_REQUESTS=false). */
  logEachRequest: boolean;
}): RequestHandler {
  return (request, response, next) => {
    const started = Date.now();
    const requestId = options.requestId(request, response);
    let logger: pino.Logger | undefined;
    const requestLogger = () => (logger ??= options.logger.child({ request_id: requestId }));
    const store = new Store(options.logger);
    Object.defineProperty(store, 'logger', { get: requestLogger, enumerable: true });
    // request.log as pino-http would set it: the exception filter logs with it, outside the store.
    Object.defineProperty(request, 'log', { get: requestLogger, configurable: true });

    if (options.logEachRequest) {
      // 'close' alone for an answer cut short; the line is written once either way.
      const finished = () => {
        response.off('finish', finished);
        response.off('close', finished);
        const line = { method: request.method, route: options.routeOf(request), status: response.statusCode, duration_ms: Date.now() - started };
        if (response.statusCode >= 500) requestLogger().error(line, 'request');
        else requestLogger().info(line, 'request');
      };
      response.on('finish', finished);
      response.on('close', finished);
    }
    storage.run(store, next);
  };
}
