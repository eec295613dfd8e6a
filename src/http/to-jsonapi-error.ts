import { HttpException } from '@nestjs/common';
import { StaleRevision } from '../accounts/application/run-account-command';
import { AccountRuleViolation, InvalidAttributes } from '../accounts/domain/errors';
import { ProjectionLagging } from '../accounts/projection/account-projection';
import { invalidAttributes } from '../accounts/http/account-document';
import { WrongExpectedRevision } from '../storage/event-store.port';
import { attributePointer, JsonApiError } from './jsonapi-error';

/** HTTP status of each domain refusal; a code not listed here is a conflict with the account's state. */
const RULE_STATUS: Record<string, number> = {
  account_not_found: 404,
  relationship_limit_exceeded: 422,
  invalid_related_id: 422,
};

/** The one mapping from anything thrown to the JSON:API answer a client gets. */
export function toJsonApiError(error: unknown): JsonApiError {
  if (error instanceof JsonApiError) return error;
  if (error instanceof InvalidAttributes) return invalidAttributes(error.problems);
  if (error instanceof AccountRuleViolation) {
    const status = RULE_STATUS[error.code] ?? 409;
    return JsonApiError.of(status, error.code, error.message, {
      ...(error.attributePath ? { source: { pointer: attributePointer(error.attributePath) } } : {}),
      ...(error.meta ? { meta: error.meta } : {}),
    });
  }
  if (error instanceof StaleRevision) {
    return JsonApiError.of(412, 'stale_revision', 'The account changed since the ETag in If-Match: read it again and retry', {
      source: { header: 'If-Match' },
      meta: { current_revision: error.actual === null ? null : String(error.actual) },
    });
  }
  if (error instanceof WrongExpectedRevision) {
    return JsonApiError.of(409, 'concurrent_modification', 'The account is being changed by many requests at once: retry', { headers: { 'Retry-After': '1' } });
  }
  if (error instanceof ProjectionLagging) {
    return JsonApiError.of(503, 'read_model_lagging', 'The write succeeded but the read model is behind: read the account again shortly', {
      headers: { 'Retry-After': '1' },
    });
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 404) return JsonApiError.of(404, 'not_found', 'No such route');
    // Nest's own answers, such as a path that is not valid percent-encoding.
    return JsonApiError.of(status, status === 400 ? 'bad_request' : 'http_error', error.message);
  }
  return JsonApiError.of(500, 'internal_error', 'Something went wrong on our side; it has been logged');
}
