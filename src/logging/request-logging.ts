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
const REQUEST_LOGGER = Symbol('request logger');

/**
 * What the request's async context holds for AppLogger (nestjs-pino's Store has the same `logger`):
 * the request's logger, made on first use. A class with a getter, not a Store given one by
 * Object.defineProperty per request, which would turn each store into a slow dictionary object.
 */
class RequestLogger {
  private made: pino.Logger | undefined;

  constructor(
    private readonly root: pino.Logger,
    private readonly requestId: string,
  ) {}

  get logger(): pino.Logger {
    return (this.made ??= this.root.child({ request_id: this.requestId }));
  }
}

/**
 * request.log as pino-http would set it (the exception filter logs with it, outside the async
 * context): one getter on Express's request prototype, rather than one property defined on each
 * request, which would make every request a dictionary-mode object for all that reads it later.
 */
function defineRequestLog(requestPrototype: object): void {
  if (Object.prototype.hasOwnProperty.call(requestPrototype, 'log')) return;
  Object.defineProperty(requestPrototype, 'log', {
    configurable: true,
    get(this: { [REQUEST_LOGGER]?: RequestLogger }) {
      return this[REQUEST_LOGGER]?.logger;
    },
  });
}

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
    const requestLogger = new RequestLogger(options.logger, options.requestId(request, response));
    defineRequestLog(Object.getPrototypeOf(request) as object);
    (request as Request & { [REQUEST_LOGGER]?: RequestLogger })[REQUEST_LOGGER] = requestLogger;

    if (options.logEachRequest) {
      // 'close' alone for an answer cut short; the line is written once either way.
      const finished = () => {
        response.off('finish', finished);
        response.off('close', finished);
        const line = { method: request.method, route: options.routeOf(request), status: response.statusCode, duration_ms: Date.now() - started };
        if (response.statusCode >= 500) requestLogger.logger.error(line, 'request');
        else requestLogger.logger.info(line, 'request');
      };
      response.on('finish', finished);
      response.on('close', finished);
    }
    // AppLogger reads `logger` of what the store holds, as of nestjs-pino's Store.
    storage.run(requestLogger as unknown as Store, next);
  };
}
