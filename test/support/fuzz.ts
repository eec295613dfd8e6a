import fc from 'fast-check';
import type { Response } from 'supertest';
import { ACCOUNTS, TestApp } from './app-harness';

// The mechanics of the fuzz suite (test/e2e/fuzz.e2e-spec.ts): one request as generated, how it is
// sent and printed, what every answer must satisfy, and the state a refused write must not change.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// JSON documents, addressed by paths written like JSON Pointers ("person/name/first") and changed
// by copy, so that a generated base document is never altered under fast-check's feet.

export type Path = (string | number)[];

export const pathOf = (pointer: string): Path => (pointer === '' ? [] : pointer.split('/').map((part) => (/^\d+$/.test(part) ? Number(part) : part)));
export const isContainer = (value: unknown): value is Record<string, Json> => typeof value === 'object' && value !== null;
const own = (container: unknown, key: string | number): Json | undefined =>
  isContainer(container) && Object.hasOwn(container, key) ? (container as Record<string, Json>)[key] : undefined;

/**
 * A copy of the container with `key` set to `value` (removed if undefined) as its own member, even
 * `__proto__` or `constructor`, as JSON.parse would make it. A number key makes an array.
 */
export function withOwn(container: Json | undefined, key: string | number, value: Json | undefined): Json {
  const copy: Json[] | Record<string, Json> =
    typeof key === 'number' ? (Array.isArray(container) ? [...container] : []) : isContainer(container) && !Array.isArray(container) ? { ...container } : {};
  if (value === undefined) {
    if (Array.isArray(copy)) copy.splice(Number(key), 1);
    else delete copy[key];
  } else {
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return copy as Json;
}

/** Sets (or, with undefined, removes) the value at `path`, making the containers on the way. */
export function setAt(document: Json | undefined, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? null : value;
  const [key, ...rest] = path;
  return withOwn(document, key, rest.length === 0 ? value : setAt(own(document, key), rest, value));
}
export const getAt = (document: Json | undefined, path: Path): Json | undefined => path.reduce<Json | undefined>((value, key) => own(value, key), document);

/** One HTTP request exactly as the fuzzer made it. */
export interface FuzzRequest {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  /** undefined drops the header; X-Api-Key is the suite's valid key unless given here. */
  headers?: Record<string, string | undefined>;
  /** A JSON value, sent as JSON text. */
  json?: unknown;
  /** Sent as is: text (UTF-8) or bytes. */
  raw?: string | Buffer;
}

/** Marks the suite's own valid key in printed requests, so a counterexample reads the same on every run. */
export const VALID_KEY = '<the suite key>';

/** A request that fast-check prints readably (its counterexamples use this). */
export function fuzzRequest(request: FuzzRequest): FuzzRequest {
  return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
}

/** `POST /path`, the headers, then the body; huge or deep input is folded (`«x»×100000`). */
export function describeRequest(request: FuzzRequest): string {
  const lines = [`${request.method} ${fold(JSON.stringify(request.path).slice(1, -1))}`];
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    lines.push(value === undefined ? `(no ${name} header)` : `${name}: ${fold(JSON.stringify(value))}`);
  }
  if (request.json !== undefined) lines.push(fold(JSON.stringify(request.json)));
  if (typeof request.raw === 'string') lines.push(`raw text ${fold(JSON.stringify(request.raw))}`);
  if (Buffer.isBuffer(request.raw)) lines.push(`raw bytes <${fold(request.raw.toString('hex').replace(/(..)(?!$)/g, '$1 '))}>`);
  return lines.join('\n  ');
}

/**
 * Readable whatever it holds: characters that print as nothing, or as something else (C1 controls,
 * format characters, separators, noncharacters) are escaped like JSON escapes C0 controls and lone
 * surrogates; a unit repeated 8 times or more is folded into «unit»×count; the rest is cut at 2000.
 */
function fold(json: string): string {
  const text = json.replace(/[\u007f-\u00a0\u00ad\u061c\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufff0-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const folded = text.replace(/([^]{1,12}?)\1{7,}/g, (run: string, unit: string) => `«${unit}»×${run.length / unit.length}`);
  return folded.length > 2000 ? `${folded.slice(0, 2000)}… (${folded.length} characters)` : folded;
}

export interface Answer {
  response?: Response;
  ms: number;
  /** Set when no answer came in time, or the connection failed. */
  failure?: string;
}

/** Past this, the "answers within 5 s" property has failed anyway: stop waiting. */
const GIVE_UP_MS = 6_000;

export async function send(t: TestApp, request: FuzzRequest): Promise<Answer> {
  const method = request.method.toLowerCase() as 'get' | 'post' | 'patch';
  let test = t.http()[method](request.path).timeout(GIVE_UP_MS);
  const headers = { 'X-Api-Key': VALID_KEY, ...request.headers };
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) test = test.set(name, value === VALID_KEY ? t.key : value.replace(VALID_KEY, t.key));
  }
  if (request.json !== undefined) {
    if (!('Content-Type' in headers)) test = test.set('Content-Type', 'application/json');
    test = test.send(JSON.stringify(request.json));
  } else if (request.raw !== undefined) {
    test = test.send(request.raw);
  }
  // superagent gives a text body a form Content-Type of its own: a request without one must go without.
  if ('Content-Type' in headers && headers['Content-Type'] === undefined) test = test.unset('Content-Type');
  const started = performance.now();
  try {
    const response = await test;
    return { response, ms: performance.now() - started };
  } catch (error) {
    return { ms: performance.now() - started, failure: `no answer: ${(error as Error).message}` };
  }
}

/**
 * What the answer breaks of the properties every answer must have: no 5xx; within 5 s; a 4xx is a
 * valid JSON:API error document, with unique error objects and pointers into `sent` (the JSON sent,
 * if any); a link a 2xx gives can be followed.
 */
export function answerProblems(answer: Answer, t: TestApp, sent?: unknown): string[] {
  if (answer.failure) return [answer.failure];
  const response = answer.response!;
  const problems: string[] = [];
  if (answer.ms >= 5_000) problems.push(`answered in ${Math.round(answer.ms)} ms, not within 5 s`);
  // The document as the service read it: JSON text, in which a hole in an array is a null.
  const document = sent === undefined ? undefined : JSON.parse(JSON.stringify(sent));
  if (response.status >= 500) problems.push(`${response.status} ${response.text}${causeOf(response, t)}`);
  else if (response.status >= 400) problems.push(...errorDocumentProblems(response, document));
  else if (response.status >= 200 && response.status < 300) problems.push(...linkProblems(response));
  else problems.push(`${response.status} is neither a success nor a client error`);
  return problems;
}

/** The error the app logged for a 5xx (name and top of the stack: the log keeps no message). */
function causeOf(response: Response, t: TestApp): string {
  const requestId = response.headers['x-request-id'];
  const logged = t.logs.map((line) => JSON.parse(line)).find((entry) => entry.message === 'unhandled error' && entry.request_id === requestId);
  if (!logged) return '';
  // One line, "at" dropped, so that Jest does not take the app's frames for the test's own stack.
  const frames = String(logged.stack ?? '')
    .split('\n')
    .map((frame) => frame.trim().replace(/^at /, ''))
    .filter(Boolean);
  return `\n  the app logged ${logged.error} in ${frames.join(' ← ')}`;
}

/** JSON:API error objects (https://jsonapi.org/format/#error-objects), and the media type of the answer. */
function errorDocumentProblems(response: Response, sent: unknown): string[] {
  const problems: string[] = [];
  const contentType = String(response.headers['content-type'] ?? '');
  if (!/^application\/vnd\.api\+json\s*(;|$)/.test(contentType)) problems.push(`${response.status} with Content-Type "${contentType}"`);
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return [...problems, `${response.status} whose body is not JSON: ${JSON.stringify(response.text)}`];
  }
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return [...problems, `${response.status} without a non-empty errors array: ${response.text}`];
  if ('data' in (body as object)) problems.push('an error document must not carry data');
  const seen = new Map<string, number>();
  errors.forEach((error: Record<string, unknown>, index) => {
    const where = `errors[${index}] ${JSON.stringify(error)}`;
    if (error.status !== String(response.status)) problems.push(`${where}: status is not "${response.status}"`);
    for (const member of ['code', 'title', 'detail']) {
      if (typeof error[member] !== 'string') problems.push(`${where}: ${member} is not a string`);
    }
    problems.push(...pointerProblems(error, sent).map((problem) => `${where}: ${problem}`));
    const key = canonicalJson(error);
    if (seen.has(key)) problems.push(`${where} repeats errors[${seen.get(key)}]: error objects must be unique`);
    else seen.set(key, index);
  });
  return problems;
}

/** RFC 6901: "/"-separated tokens in which "~" is only ever "~0" (for "~") or "~1" (for "/"). */
const JSON_POINTER = /^(\/([^~/]|~[01])*)*$/;

/**
 * source.pointer is a JSON Pointer "to the value in the request document that caused the error"
 * (JSON:API). Below /data/attributes that value is in the JSON sent, except for a missing one; an
 * unknown attribute is always a member of the attributes (or deeper), never the attributes object.
 */
function pointerProblems(error: Record<string, unknown>, sent: unknown): string[] {
  const pointer = (error.source as { pointer?: unknown } | undefined)?.pointer;
  if (pointer === undefined) return [];
  if (typeof pointer !== 'string' || !JSON_POINTER.test(pointer)) return ['source.pointer is not a JSON Pointer (RFC 6901)'];
  if (sent === undefined || error.code === 'missing_attribute') return [];
  if (error.code === 'unknown_attribute' && !pointer.startsWith('/data/attributes/')) return ['an unknown attribute must be pointed at below /data/attributes/'];
  if (pointer.startsWith('/data/attributes/') && !resolves(sent, pointer)) return ['source.pointer leads to nothing in the request document'];
  return [];
}

const resolves = (document: unknown, pointer: string): boolean => {
  let value = document;
  for (const token of pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, token)) return false;
    value = (value as Record<string, unknown>)[token];
  }
  return true;
};

/** Every link a client is given (Location, links.prev/next) must be a URL it can follow. */
function linkProblems(response: Response): string[] {
  const links: [string, unknown][] = [['Location', response.headers.location]];
  const bodyLinks = (response.body as { links?: Record<string, unknown> } | undefined)?.links ?? {};
  for (const [name, link] of Object.entries(bodyLinks)) links.push([`links.${name}`, link]);
  return links
    .filter(([, link]) => link !== undefined && link !== null)
    .filter(([, link]) => typeof link !== 'string' || !URL.canParse(link) || !/^https?:$/.test(new URL(link).protocol))
    .map(([name, link]) => `${name} ${JSON.stringify(link)} is not an absolute http(s) URL`);
}

/** JSON with sorted keys, so two equal objects give one text whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What a refused write must leave as it was. Accounts are never deleted and the list is newest
 * first, so "no account was added" is "the newest account is the same": one request, not a count
 * that grows with the fuzzing. The count itself is reconciled once per property (countAccounts).
 */
export interface TenantState {
  newest: string | null;
  /** Each watched account's GET body and ETag. */
  accounts: Record<string, { etag: string; body: string }>;
}

export async function readState(t: TestApp, watched: string[]): Promise<TenantState> {
  const head = await t.http().get(`${ACCOUNTS}?page[size]=1`).set('X-Api-Key', t.key).expect(200);
  const accounts: TenantState['accounts'] = {};
  for (const id of watched) {
    const read = await t.get(id).expect(200);
    accounts[id] = { etag: read.headers.etag, body: read.text };
  }
  return { newest: head.body.data[0]?.id ?? null, accounts };
}

export function stateChanges(before: TenantState, after: TenantState): string[] {
  const changes: string[] = [];
  if (after.newest !== before.newest) changes.push(`an account was added: ${after.newest}`);
  for (const [id, was] of Object.entries(before.accounts)) {
    const now = after.accounts[id];
    if (now.etag !== was.etag || now.body !== was.body) changes.push(`${id} changed: ETag ${was.etag} → ${now.etag}\n    was ${was.body}\n    now ${now.body}`);
  }
  return changes;
}

/** The tenant's accounts, counted page by page as a client would. */
export async function countAccounts(t: TestApp): Promise<number> {
  let page = await t.http().get(`${ACCOUNTS}?page[size]=100`).set('X-Api-Key', t.key).expect(200);
  let count = page.body.data.length;
  while (page.body.links.next) {
    const next = new URL(page.body.links.next);
    page = await t.http().get(`${next.pathname}${next.search}`).set('X-Api-Key', t.key).expect(200);
    count += page.body.data.length;
  }
  return count;
}

/** How many runs a property makes, and the seconds after which it stops early (passing on the runs made). */
export interface Budget {
  runs: number;
  seconds: number;
}

/** FUZZ_RUNS multiplies runs and seconds (FUZZ_RUNS=20 for a long local run). */
const factor = () => Number(process.env.FUZZ_RUNS ?? 1);

/** fast-check parameters for a budget; FUZZ_SEED and FUZZ_PATH replay a reported failure. */
export function fuzzParameters<T>({ runs, seconds }: Budget): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  return {
    numRuns: Math.max(1, Math.round(runs * factor())),
    // Bounds CI: runs not started by then are skipped, and a failure is reported as shrunk so far.
    plugins: [fc.interruptAfterTimeLimit(seconds * factor() * 1000)],
    ...(seed === undefined ? {} : { seed, path: process.env.FUZZ_PATH }),
  };
}

/** Jest's timeout for a budget: room for shrinking a failure and for a last slow request. */
export const jestTimeout = ({ seconds }: Budget) => (seconds * factor() + 30) * 1000;
