import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, Post, UseInterceptors } from '@nestjs/common';
import type { Request, Response } from 'express';
import { catchError, from, mergeMap, Observable, of, throwError } from 'rxjs';
import { AuthenticatedRequest } from '../auth/api-key.guard';
import { JsonApiError } from '../http/jsonapi-error';
import { toJsonApiError } from '../http/to-jsonapi-error';
import { answeredEarly } from '../http/write-jsonapi-error';
import { readIdempotencyKey } from './idempotency-key';
import { Answer, IdempotentExecution, IdempotentRequests } from './idempotent-requests';

/** Set on a replayed answer, and on the answer of an attempt that resumed an earlier one's key. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** The headers of an answer that a replay repeats. */
const KEPT_HEADERS = ['Location', 'ETag'];

const EXECUTION = Symbol('idempotent execution');

/** The request's idempotent execution, or null when it came without Idempotency-Key: for handlers to name what it is about. */
export function idempotentExecution(request: Request): IdempotentExecution | null {
  return (request as Request & { [EXECUTION]?: IdempotentExecution })[EXECUTION] ?? null;
}

/**
 * A POST route: Idempotency-Key on it, through IdempotencyInterceptor. Every POST route is declared
 * with this, never with @Post (test/unit/idempotent-post.spec.ts checks the app's routes). The
 * interceptor is on POST routes only, not global: a route with no interceptor at all skips Nest's
 * RxJS pipeline (an observable, an AsyncResource and a bound function per interceptor, per request).
 */
export function IdempotentPost(path?: string): MethodDecorator {
  return applyDecorators(Post(path), UseInterceptors(IdempotencyInterceptor));
}

/**
 * Idempotency-Key on every POST, whatever its route (IdempotentPost): after the key check (401 and
 * 403 come first and are never kept), before the handler. Knows no slice: a handler names what its
 * request is about through `idempotentExecution(request)`.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly requests: IdempotentRequests) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    const header = request.headers['idempotency-key'];
    // A route open to anyone has no tenant to keep keys for; none of those takes a POST.
    if (request.method !== 'POST' || header === undefined || !request.actor) return next.handle();
    const begun = await this.requests.begin({
      tenant: request.actor.tenant,
      key: readIdempotencyKey(header),
      method: request.method,
      path: request.originalUrl,
      body: request.body,
    });
    if (begun.kind === 'replay') return replay(begun.answer, response);

    const { execution } = begun;
    Object.assign(request, { [EXECUTION]: execution });
    if (execution.resumed) response.setHeader(REPLAYED_HEADER, 'true');
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        // Answered 503 request_timeout already: nothing is kept, as for an attempt that crashed.
        if (answeredEarly(response)) return body;
        const headers = Object.fromEntries(KEPT_HEADERS.flatMap((name) => (response.hasHeader(name) ? [[name, String(response.getHeader(name))]] : [])));
        await execution.finish({ status: response.statusCode, headers, body });
        return body;
      }),
      catchError((error: unknown) => {
        if (answeredEarly(response)) return throwError(() => error);
        const answer = toJsonApiError(error);
        const kept = execution.finish({ status: answer.status, headers: answer.headers, body: answer.body() }).catch(() => undefined);
        return from(kept).pipe(mergeMap(() => throwError(() => error)));
      }),
    );
  }
}

/** The kept answer again: an error through the exception filter, as the first one went. */
function replay(answer: Answer, response: Response): Observable<unknown> {
  response.setHeader(REPLAYED_HEADER, 'true');
  if (answer.status >= 400) {
    const { errors } = answer.body as { errors: ConstructorParameters<typeof JsonApiError>[1] };
    return throwError(() => new JsonApiError(answer.status, errors, answer.headers));
  }
  for (const [name, value] of Object.entries(answer.headers)) response.setHeader(name, value);
  response.status(answer.status);
  return of(answer.body);
}
