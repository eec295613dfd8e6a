import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Actor } from '../kernel/tenant';
import { JsonApiError } from '../http/jsonapi-error';
import { Scope } from './api-key';
import { ApiKeys } from './api-keys';

const REQUIRED_SCOPE = 'required-scope';

/** The scope a route needs. Every route must say: the guard refuses the rest. */
export const RequiresScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);

export interface AuthenticatedRequest extends Request {
  requestId: string;
  correlationId: string;
  actor?: Actor;
}

/** The authenticated caller of the request, as recorded in the events it causes. */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().actor!;
});

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeys,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.header('x-api-key');
    const record = await this.apiKeys.authenticate(header);
    if (!record) {
      throw JsonApiError.of(401, 'unauthorized', header ? 'The API key is unknown or revoked' : 'Send an API key in the X-Api-Key header', {
        source: { header: 'X-Api-Key' },
      });
    }
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    if (!scope || !record.scopes.includes(scope)) {
      throw JsonApiError.of(403, 'insufficient_scope', `This API key lacks the scope ${scope ?? '(none declared)'}`, {
        meta: { required_scope: scope ?? null },
      });
    }
    request.actor = {
      tenant: record.tenant,
      api_key_id: record.id,
      request_id: request.requestId,
      correlation_id: request.correlationId,
    };
    return true;
  }
}
