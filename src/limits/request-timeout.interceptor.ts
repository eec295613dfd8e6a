import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { catchError, Observable, throwError, timeout, TimeoutError } from 'rxjs';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { JsonApiError } from '../http/jsonapi-error';

/**
 * REQUEST_TIMEOUT_MS: a handler that has not answered by then is answered 503 request_timeout
 * instead of holding the client (and a connection) forever. The work itself is not cancelled: a
 * write may still be recorded, which the detail says. Receiving the request is bounded by the
 * HTTP server's own requestTimeout, set to the same value.
 */
@Injectable()
export class RequestTimeoutInterceptor implements NestInterceptor {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ms = this.config.requestTimeoutMs;
    return next.handle().pipe(
      timeout({ first: ms }),
      catchError((error: unknown) =>
        throwError(() =>
          error instanceof TimeoutError
            ? JsonApiError.of(503, 'request_timeout', `The request was not answered within ${ms / 1000} s; a write may still have been recorded: read it before retrying`, {
                headers: { 'Retry-After': '1' },
              })
            : error,
        ),
      ),
    );
  }
}
