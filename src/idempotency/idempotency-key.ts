import { JsonApiError } from '../http/jsonapi-error';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** A structured-field string (RFC 8941 §3.3.3), as the IETF draft sends the key: `"8e03978e-…"`. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\["\\])*)"$/;
const PRINTABLE = /^[\x20-\x7E]+$/;

/**
 * The key of `Idempotency-Key`: 1 to 255 printable ASCII characters, sent as they are or as the
 * draft's quoted string (both spellings name the same key). Anything else is a 400 naming the header.
 */
export function readIdempotencyKey(header: string | string[]): string {
  const invalid = (detail: string) => JsonApiError.of(400, 'invalid_header', detail, { source: { header: IDEMPOTENCY_KEY_HEADER } });
  if (Array.isArray(header)) throw invalid(`${IDEMPOTENCY_KEY_HEADER} may be sent once`);
  const quoted = SF_STRING.exec(header);
  const key = quoted ? quoted[1].replace(/\\(["\\])/g, '$1') : header;
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE.test(key)) {
    throw invalid(`${IDEMPOTENCY_KEY_HEADER} must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters (a UUID, say), bare or as a quoted string`);
  }
  return key;
}
