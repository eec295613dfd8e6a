import { STATUS_CODES } from 'node:http';

/** One JSON:API error object (https://jsonapi.org/format/#error-objects). */
export interface JsonApiErrorObject {
  status: string;
  code: string;
  title: string;
  detail: string;
  source?: { pointer?: string; parameter?: string; header?: string };
  meta?: Record<string, unknown>;
}

/**
 * An HTTP answer made of one or more JSON:API errors. The only error type the HTTP layer throws.
 * Its errors are unique (JSON:API requires it): the same problem found twice is listed once.
 */
export class JsonApiError extends Error {
  readonly errors: JsonApiErrorObject[];

  constructor(
    readonly status: number,
    errors: JsonApiErrorObject[],
    readonly headers: Record<string, string> = {},
  ) {
    const unique = uniqueErrors(errors);
    super(unique.map((e) => e.detail).join('; '));
    this.errors = unique;
    this.name = 'JsonApiError';
  }

  static of(
    status: number,
    code: string,
    detail: string,
    extra: { source?: JsonApiErrorObject['source']; meta?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ): JsonApiError {
    return new JsonApiError(status, [errorObject(status, code, detail, extra)], extra.headers);
  }

  body(): { errors: JsonApiErrorObject[] } {
    return { errors: this.errors };
  }
}

export function errorObject(
  status: number,
  code: string,
  detail: string,
  extra: { source?: JsonApiErrorObject['source']; meta?: Record<string, unknown> } = {},
): JsonApiErrorObject {
  return {
    status: String(status),
    code,
    title: STATUS_CODES[status] ?? 'Error',
    detail,
    ...(extra.source ? { source: extra.source } : {}),
    ...(extra.meta ? { meta: extra.meta } : {}),
  };
}

/** Enough to fix any honest request in one go; more would let a small request buy a huge answer. */
export const MAX_REPORTED_PROBLEMS = 100;

/** Every problem of one request in one answer, up to MAX_REPORTED_PROBLEMS, then how many more. */
export function problemsError(status: number, found: JsonApiErrorObject[]): JsonApiError {
  const errors = uniqueErrors(found);
  if (errors.length <= MAX_REPORTED_PROBLEMS) return new JsonApiError(status, errors);
  const more = errors.length - MAX_REPORTED_PROBLEMS;
  return new JsonApiError(status, [
    ...errors.slice(0, MAX_REPORTED_PROBLEMS),
    errorObject(status, 'too_many_problems', `${more} more problems are not listed; fix these first`, { meta: { not_listed: more } }),
  ]);
}

/** The pointer of an attribute path (src/http/json-pointer.ts): "" is the member named "", not the attributes object. */
export const attributePointer = (path: string) => `/data/attributes/${path}`;

/** Keys are written in one order by errorObject, so equal objects serialise equally. */
function uniqueErrors(errors: JsonApiErrorObject[]): JsonApiErrorObject[] {
  return [...new Map(errors.map((error) => [JSON.stringify(error), error])).values()];
}
