import type { Response } from 'express';
import { JSONAPI_MEDIA_TYPE } from './json-body';
import { JsonApiError } from './jsonapi-error';

const ANSWERED_EARLY = Symbol('answered before its handler');

/** Writes a JSON:API error answer: the exception filter's, and the request timeout's. */
export function writeJsonApiError(response: Response, error: JsonApiError): void {
  // end(), not send(): send() would add Express's ETag of the error body, which a client could
  // take for the account's revision (If-Match). An ETag the handler set before failing goes too.
  response.removeHeader('ETag');
  const body = JSON.stringify(error.body());
  response.status(error.status).set(error.headers).type(JSONAPI_MEDIA_TYPE).set('Content-Length', String(Buffer.byteLength(body))).end(body);
}

/**
 * Answers with `error` before the handler has (the request timeout): whatever the handler answers
 * or throws later is dropped, neither written nor logged, nor kept for an Idempotency-Key.
 */
export function answerEarly(response: Response, error: JsonApiError): void {
  (response as Response & { [ANSWERED_EARLY]?: true })[ANSWERED_EARLY] = true;
  writeJsonApiError(response, error);
}

export function answeredEarly(response: Response): boolean {
  return (response as Response & { [ANSWERED_EARLY]?: true })[ANSWERED_EARLY] === true;
}
