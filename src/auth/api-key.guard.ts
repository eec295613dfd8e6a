import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, RequestHandler } from 'express';
import { hasBody } from '../http/json-body';
import { Actor } from '../kernel/tenant';
import { JsonApiError } from '../http/jsonapi-error';
import { ApiKeyRecord, Scope } from './api-key';
import { ApiKeys } from './api-keys';

const REQUIRED_SCOPE = 'required-scope';

/** The scope a route needs. Every route must say (or be Public): the guard refuses the rest. */
export const RequiresScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);

const PUBLIC_ROUTE = 'public-route';

/** A route anyone may call without a key, such as a liveness probe. It must reveal nothing of any tenant. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export interface AuthenticatedRequest extends Request {
  requestId: string;
  correlationId: string;
  /** The valid key the request came with, or null; set by authenticateRequest. */
  apiKey?: ApiKeyRecord | null;
  actor?: Actor;
}

function unauthorized(request: Request): JsonApiError {
  const detail = request.header('x-api-key') ? 'The API key is unknown or revoked' : 'Send an API key in the X-Api-Key header';
  return JsonApiError.of(401, 'unauthorized', detail, { source: { header: 'X-Api-Key' } });
}

function insufficientScope(scope: Scope | undefined): JsonApiError {
  return JsonApiError.of(403, 'insufficient_scope', `This API key lacks the scope ${scope ?? '(none declared)'}`, {
    meta: { required_scope: scope ?? null },
  });
}

/** For a part of a route that needs a scope beyond the route's own (checked by the guard first). */
export function requireScope(request: Request, scope: Scope): void {
  if (!(request as AuthenticatedRequest).apiKey?.scopes.includes(scope)) throw insufficientScope(scope);
}

/**
 * Looks the key up before the body is read, so a caller without a valid key cannot make the
 * service read and parse a body (401 comes before 400, 413 or 415). The guard decides the rest.
 */
export function authenticateRequest(apiKeys: ApiKeys): RequestHandler {
  return (request, _response, next) => {
    apiKeys.authenticate(request.header('x-api-key')).then((record) => {
      (request as AuthenticatedRequest).apiKey = record;
      next(record || !hasBody(request) ? undefined : unauthorized(request));
    }, next);
  };
}

/** The authenticated caller of the request, as recorded in the events it causes. */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().actor!;
});

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const record = request.apiKey;
    if (!record) throw unauthorized(request);
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    if (!scope || !record.scopes.includes(scope)) throw insufficientScope(scope);
    request.actor = {
      tenant: record.tenant,
      api_key_id: record.id,
      request_id: request.requestId,
      correlation_id: request.correlationId,
    };
    return true;
  }
}
