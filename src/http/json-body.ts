import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import { JsonApiError } from './jsonapi-error';

export const JSONAPI_MEDIA_TYPE = 'application/vnd.api+json';
const JSON_TYPES = ['application/json', JSONAPI_MEDIA_TYPE];
/** RFC 7396: a JSON document that says how to change a resource, so a body of PATCH only. */
export const MERGE_PATCH_MEDIA_TYPE = 'application/merge-patch+json';
export const MAX_BODY_BYTES = 1024 * 1024;
/** Far deeper than any document of this API; deeper input would overflow the validators' recursion. */
export const MAX_BODY_DEPTH = 32;

/**
 * Reads request bodies: 415 unless JSON (or, on PATCH, a JSON merge patch), 413 over 1 MiB, 400
 * when not valid JSON or nested deeper than MAX_BODY_DEPTH, each as a JSON:API error. Responses
 * default to the JSON:API media type.
 */
export function jsonBody(): RequestHandler {
  // Not strict: `null` or `"x"` is valid JSON, so the document check (not "malformed JSON") answers it.
  const parse = json({ limit: MAX_BODY_BYTES, type: [...JSON_TYPES, MERGE_PATCH_MEDIA_TYPE], strict: false });
  return (request: Request, response: Response, next: NextFunction) => {
    response.type(JSONAPI_MEDIA_TYPE);
    if (!hasBody(request)) return next();
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const accepted = request.method === 'PATCH' ? [...JSON_TYPES, MERGE_PATCH_MEDIA_TYPE] : JSON_TYPES;
    if (!accepted.includes(type)) {
      const patchOnly = type === MERGE_PATCH_MEDIA_TYPE ? ` (${MERGE_PATCH_MEDIA_TYPE} is for PATCH only)` : '';
      return next(
        JsonApiError.of(415, 'unsupported_media_type', `Content-Type must be ${accepted.join(' or ')}${patchOnly}`, { source: { header: 'Content-Type' } }),
      );
    }
    parse(request, response, (error?: unknown) => {
      if (error !== undefined) return next(bodyError(error));
      if (nestedDeeperThan(request.body, MAX_BODY_DEPTH)) {
        return next(JsonApiError.of(400, 'invalid_document', `The body is nested more than ${MAX_BODY_DEPTH} levels deep`));
      }
      next();
    });
  };
}

/** Without recursion, so no input can overflow the stack here. */
function nestedDeeperThan(body: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}

export function hasBody(request: Request): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

/** body-parser marks its errors with `type`. */
function bodyError(error: unknown): JsonApiError {
  switch ((error as { type?: unknown }).type) {
    case 'entity.too.large':
      return JsonApiError.of(413, 'payload_too_large', 'The body is larger than 1 MiB');
    case 'entity.parse.failed':
      return JsonApiError.of(400, 'malformed_json', 'The body is not valid JSON');
    case 'encoding.unsupported':
      return JsonApiError.of(415, 'unsupported_media_type', 'Send the body uncompressed, or with Content-Encoding gzip, deflate or br', {
        source: { header: 'Content-Encoding' },
      });
    case 'charset.unsupported':
      return JsonApiError.of(415, 'unsupported_media_type', 'Send the body as UTF-8 JSON', { source: { header: 'Content-Type' } });
    default:
      return JsonApiError.of(400, 'unreadable_body', 'The request body could not be read in full');
  }
}
