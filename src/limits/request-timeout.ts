import type { RequestHandler } from 'express';
import { JsonApiError } from '../http/jsonapi-error';
import { answerEarly } from '../http/write-jsonapi-error';

/**
 * REQUEST_TIMEOUT_MS: a request not answered by then is answered 503 request_timeout instead of
 * holding the client (and a connection) forever. The work itself is not cancelled: a write may
 * still be recorded, which the detail says; its late answer is dropped. Receiving the request is
 * bounded by the HTTP server's own requestTimeout, set to the same value.
 *
 * A middleware rather than a Nest interceptor: any interceptor puts every request of its routes
 * through Nest's RxJS pipeline (an observable, an AsyncResource and a bound function per layer).
 */
export function requestTimeout(ms: number): RequestHandler {
  return (_request, response, next) => {
    const timer = setTimeout(() => {
      if (response.headersSent) return;
      answerEarly(
        response,
        JsonApiError.of(503, 'request_timeout', `The request was not answered within ${ms / 1000} s; a write may still have been recorded: read it before retrying`, {
          headers: { 'Retry-After': '1' },
        }),
      );
    }, ms);
    // 'close' comes once the answer is written or the connection is gone, whichever is first.
    response.once('close', () => clearTimeout(timer));
    next();
  };
}
