// Jest setup (setupFilesAfterEnv): every answer an in-process app of this service gives during the
// run is checked against the OpenAPI document that app serves (GET /openapi.json), and a test file
// that received an answer the document does not describe fails: the document cannot drift from the
// behaviour. Answers are seen where they leave the process, ServerResponse.end, so the refusals of
// middleware (401, 413, 415, 405) are checked as well as the handlers' answers.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Exchange, openApiChecker } from './openapi-checker';

type Check = ReturnType<typeof openApiChecker>;
const checkers = new WeakMap<object, Check>();
const problems: string[] = [];
let checked = 0;

const bodies = new WeakMap<ServerResponse, Buffer[]>();

/** The document of the app that answers, if it is one of ours (createApp puts it in the Express app's locals). */
function documentOf(response: ServerResponse): object | undefined {
  const app = (response.req as (IncomingMessage & { app?: { locals?: { openApiDocument?: object } } }) | undefined)?.app;
  return app?.locals?.openApiDocument;
}

function keep(response: ServerResponse, chunk: unknown, encoding: unknown) {
  if (chunk === undefined || chunk === null || typeof chunk === 'function' || !documentOf(response)) return;
  const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  bodies.set(response, [...(bodies.get(response) ?? []), buffer]);
}

function observe(response: ServerResponse) {
  const document = documentOf(response);
  if (!document) return;
  try {
    if (!checkers.has(document)) checkers.set(document, openApiChecker(document));
    const request = response.req as IncomingMessage & { originalUrl?: string; body?: unknown };
    const body = bodies.get(response);
    const exchange: Exchange = {
      method: request.method ?? 'GET',
      url: request.originalUrl ?? request.url ?? '/',
      status: response.statusCode,
      headers: response.getHeaders(),
      body: body ? Buffer.concat(body).toString('utf8') : undefined,
      requestContentType: request.headers['content-type'],
      requestBody: request.body,
    };
    checked += 1;
    problems.push(...checkers.get(document)!(exchange));
  } catch (error) {
    problems.push(`checking an answer failed: ${error instanceof Error ? error.stack : String(error)}`);
  }
}

const write = ServerResponse.prototype.write;
const end = ServerResponse.prototype.end;
ServerResponse.prototype.write = function checkedWrite(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
  keep(this, chunk, rest[0]);
  return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof write;
ServerResponse.prototype.end = function checkedEnd(this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
  keep(this, chunk, rest[0]);
  observe(this);
  return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
} as typeof end;

afterAll(() => {
  expect([...new Set(problems)]).toEqual([]);
});

/** How many answers this file's tests had checked so far: for the test that shows the check works. */
export const answersChecked = () => checked;
