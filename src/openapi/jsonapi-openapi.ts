import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiProduces, ApiResponse, ApiSecurity, ApiTags, DECORATORS } from '@nestjs/swagger';
import type { ExamplesObject, HeadersObject, SchemaObject } from '@nestjs/swagger';
import { JSONAPI_MEDIA_TYPE } from '../http/json-body';

// What every JSON:API route of the service shares in its OpenAPI 3.1 description: the API key, the
// request id, the error document and the errors any keyed route or any body can cause, the rate
// limit headers. Each slice describes its own operations with these (accounts.openapi.ts...).
// Schemas are JSON Schema 2020-12, OpenAPI 3.1's dialect (null is a type: ["string", "null"]).

export type JsonSchema = Record<string, unknown>;

/** The security scheme's name in the document. */
export const API_KEY_SCHEME = 'api_key';

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const nullable = (schema: JsonSchema): JsonSchema => {
  if (typeof schema.type !== 'string') return { anyOf: [schema, { type: 'null' }] };
  return { ...schema, type: [schema.type, 'null'], ...(Array.isArray(schema.enum) ? { enum: [...schema.enum, null] } : {}) };
};
/** @nestjs/swagger types schemas as OpenAPI 3.0's; ours are 3.1's, which it passes through as they are. */
export const asSwaggerSchema = (schema: JsonSchema) => schema as unknown as SchemaObject;

const REQUEST_ID = '^[A-Za-z0-9._:-]{1,128}$';

export const JSONAPI_SCHEMAS: Record<string, JsonSchema> = {
  ErrorObject: {
    type: 'object',
    description: 'One problem (https://jsonapi.org/format/#error-objects). Branch on `code`; `detail` is for people.',
    required: ['status', 'code', 'title', 'detail'],
    additionalProperties: false,
    properties: {
      status: { type: 'string', pattern: '^[45]\\d\\d$', description: 'The HTTP status, as a string' },
      code: { type: 'string', description: 'Stable: branch on it' },
      title: { type: 'string', description: "The HTTP status's name" },
      detail: { type: 'string', description: 'What is wrong and what is allowed, naming the attribute by its full path; its wording may improve' },
      source: {
        type: 'object',
        description: 'Where the problem is: a JSON Pointer into the request body, a query parameter, or a request header',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        properties: {
          // [\s\S], not .: a member name may hold a line break, and the pointer names it as it is.
          pointer: { type: 'string', pattern: '^(/[\\s\\S]*)?$' },
          parameter: { type: 'string' },
          header: { type: 'string' },
        },
      },
      meta: { type: 'object', description: 'Data the code documents, such as `current_revision` or `required_scope`' },
    },
  },
  PageLinks: {
    type: 'object',
    description: 'Full URLs of the neighbouring pages, repeating the filters and the page size; null when there is nothing in that direction',
    required: ['prev', 'next'],
    additionalProperties: false,
    properties: { prev: { type: ['string', 'null'], format: 'uri' }, next: { type: ['string', 'null'], format: 'uri' } },
  },
};

const header = (description: string, schema: JsonSchema, required = false) => ({ description, required, schema: asSwaggerSchema(schema) });

/** On every answer. */
const ANSWER_HEADERS: HeadersObject = {
  'X-Request-Id': header("The request's id: the client's own X-Request-Id when it is 1 to 128 of A-Z a-z 0-9 . _ : -, else one the service made (req_…)", { type: 'string', pattern: REQUEST_ID }, true),
};

/** On every answer a rate-limited route gives once the key is known (not on 401). */
const RATE_LIMIT_HEADERS: HeadersObject = {
  'RateLimit-Limit': header("Requests the API key may make per window (RATE_LIMIT_PER_MINUTE, per minute)", { type: 'integer', minimum: 1 }),
  'RateLimit-Remaining': header('Requests left in the current window', { type: 'integer', minimum: 0 }),
  'RateLimit-Reset': header('Seconds until the window ends', { type: 'integer', minimum: 0 }),
};

const RETRY_AFTER: HeadersObject = { 'Retry-After': header('Seconds to wait before retrying', { type: 'integer', minimum: 0 }, true) };

/** On the answers of a POST sent with Idempotency-Key (src/idempotency). */
const IDEMPOTENCY_HEADERS: HeadersObject = {
  'Idempotent-Replayed': header("`true` when the answer is the one kept for the request's Idempotency-Key (a retry), not a new one", { type: 'string', enum: ['true'] }),
};

/** Errors by HTTP status: the codes each status may carry. */
export type ErrorCodes = Partial<Record<number, string[]>>;

/** What any route that needs an API key can answer, whatever it does. */
const KEYED_ROUTE_ERRORS: ErrorCodes = {
  401: ['unauthorized'],
  403: ['insufficient_scope'],
  429: ['rate_limited'],
  500: ['internal_error'],
  503: ['request_timeout'],
};

/** What reading a request body can answer (src/http/json-body.ts), before any slice sees it. */
const BODY_ERRORS: ErrorCodes = {
  400: ['malformed_json', 'invalid_document', 'unreadable_body'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
};

/** A path that is not valid percent-encoding never reaches a handler. */
const PATH_ERRORS: ErrorCodes = { 400: ['bad_request'] };

/** What Idempotency-Key can answer on any POST: a malformed key, a key still being answered, a key used for another request. */
const IDEMPOTENCY_ERRORS: ErrorCodes = { 400: ['invalid_header'], 409: ['idempotency_key_in_flight'], 422: ['idempotency_key_reused'] };

const ERROR_HEADERS: Partial<Record<number, HeadersObject>> = {
  // Only some 409s say when to retry: idempotency_key_in_flight and concurrent_modification.
  409: { 'Retry-After': header('Seconds to wait before retrying, on the 409s that say to retry (idempotency_key_in_flight, concurrent_modification)', { type: 'integer', minimum: 0 }) },
  429: { ...RETRY_AFTER, ...RATE_LIMIT_HEADERS },
  503: RETRY_AFTER,
};

/** Several sets of error codes as one, each code once per status. */
export function mergeCodes(...sets: ErrorCodes[]): ErrorCodes {
  const merged: ErrorCodes = {};
  for (const set of sets) for (const [status, codes] of Object.entries(set)) merged[Number(status)] = [...new Set([...(merged[Number(status)] ?? []), ...(codes ?? [])])];
  return merged;
}

/** A JSON:API error document, with `code` narrowed to what this status may carry on this operation. */
function errorSchema(codes: string[]): JsonSchema {
  return {
    type: 'object',
    description: 'Every problem found, each once (at most 100 and then one `too_many_problems`)',
    required: ['errors'],
    additionalProperties: false,
    properties: { errors: { type: 'array', minItems: 1, items: { ...ref('ErrorObject'), properties: { code: { enum: codes } } } } },
  };
}

/**
 * Every error answer an operation can give, with its codes: the slice's own, and those any keyed
 * route (401, 403, 429, 500, 503), any body (400, 413, 415), any path parameter or, on a POST
 * (`idempotent`), Idempotency-Key causes.
 */
export function ApiJsonApiErrors(
  own: ErrorCodes,
  options: { body?: boolean; pathParameters?: boolean; idempotent?: boolean; examples?: Partial<Record<number, ExamplesObject>> } = {},
) {
  const all = mergeCodes(KEYED_ROUTE_ERRORS, options.body ? BODY_ERRORS : {}, options.pathParameters ? PATH_ERRORS : {}, options.idempotent ? IDEMPOTENCY_ERRORS : {}, own);
  return applyDecorators(
    ...Object.entries(all).map(([text, codes]) => {
      const status = Number(text);
      return ApiResponse({
        status,
        description: `Error codes: ${codes!.map((code) => `\`${code}\``).join(', ')}`,
        // RateLimit-* are optional: sent once the rate limit has counted the request, not on what is refused before it.
        headers: { ...ANSWER_HEADERS, ...RATE_LIMIT_HEADERS, ...ERROR_HEADERS[status], ...(options.idempotent ? IDEMPOTENCY_HEADERS : {}) },
        schema: asSwaggerSchema(errorSchema(codes!)),
        ...(options.examples?.[status] ? { examples: options.examples[status] as never } : {}),
      });
    }),
  );
}

/** A successful JSON:API answer; `idempotent` on a POST, whose answer may be a replay. */
export function ApiJsonApiResponse(
  status: number,
  options: { description: string; schema: JsonSchema; headers?: HeadersObject; idempotent?: boolean; examples?: Record<string, { summary: string; value: unknown }> },
) {
  return ApiResponse({
    status,
    description: options.description,
    headers: { ...ANSWER_HEADERS, ...RATE_LIMIT_HEADERS, ...(options.idempotent ? IDEMPOTENCY_HEADERS : {}), ...options.headers },
    schema: asSwaggerSchema(options.schema),
    ...(options.examples ? { examples: options.examples } : {}),
  });
}

/** A JSON:API request body, in the media types the route reads. */
export function ApiJsonApiBody(options: { description: string; schema: JsonSchema; mediaTypes?: string[]; required?: boolean; examples?: ExamplesObject }) {
  return applyDecorators(
    ApiConsumes(...(options.mediaTypes ?? ['application/json', JSONAPI_MEDIA_TYPE])),
    ApiBody({ description: options.description, required: options.required ?? true, schema: asSwaggerSchema(options.schema), examples: options.examples }),
  );
}

/**
 * Optional on every POST: a retry with the same key and body is answered once (the idempotency
 * layer). The operation's answers say so too: `idempotent` on ApiJsonApiResponse and ApiJsonApiErrors.
 */
export const ApiIdempotencyKey = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'A key of your choosing, unique per write (1 to 255 printable ASCII characters, bare or as a quoted string; else 400 `invalid_header`): a retry with the same key and body within 24 hours gets the first answer again, marked `Idempotent-Replayed: true`, instead of writing again. The key with another path or body: 422 `idempotency_key_reused`; while the first request is still being answered: 409 `idempotency_key_in_flight` with Retry-After',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  });

/** For a controller of routes that need no key (@Public): its operations declare no security at all. */
export const ApiPublic = () => SetMetadata(DECORATORS.API_SECURITY, []);

/** For a controller of JSON:API routes that need an API key. */
export function ApiKeyedJsonApi(tag: string) {
  return applyDecorators(
    ApiSecurity(API_KEY_SCHEME),
    ApiProduces(JSONAPI_MEDIA_TYPE),
    ApiHeader({ name: 'X-Request-Id', required: false, description: 'Your id for the request (1 to 128 of A-Z a-z 0-9 . _ : -): echoed, logged and recorded with every change it causes', schema: asSwaggerSchema({ type: 'string', pattern: REQUEST_ID }) }),
    ApiHeader({ name: 'X-Correlation-Id', required: false, description: 'Ties together what one action of yours caused; recorded with every change (same format; default: the request id)', schema: asSwaggerSchema({ type: 'string', pattern: REQUEST_ID }) }),
    ApiTags(tag),
  );
}
