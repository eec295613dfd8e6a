import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RouterLayers } from '../../src/http/method-not-allowed';
import { answersChecked } from '../support/check-answers-against-openapi';
import { openApiChecker } from '../support/openapi-checker';
import { ACCOUNTS, appForEachSuite, uniqueGuideAttributes } from '../support/app-harness';

// The OpenAPI 3.1 document the service serves: generated from the code, linted, complete, and
// (test/support/check-answers-against-openapi.ts) checked against every answer the suite receives.

const ROOT = join(__dirname, '..', '..');
type Document = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> } };

describe('GET /openapi.json', () => {
  const t = appForEachSuite();
  let document: Document;
  beforeAll(async () => {
    const response = await t.http().get('/openapi.json').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    document = response.body;
  });

  it('is OpenAPI 3.1 and lints clean with redocly', async () => {
    expect(document.openapi).toBe('3.1.0');
    const file = join(t.dataDir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const lint = await promisify(execFile)(process.execPath, [require.resolve('@redocly/cli/bin/cli.js'), 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).catch((error: { stdout?: string; stderr?: string }) => error);
    const report = JSON.parse(lint.stdout ?? '{}') as { totals?: { errors: number; warnings: number }; problems?: { ruleId: string; message: string }[] };
    expect(report.problems?.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toEqual(expect.objectContaining({ errors: 0, warnings: 0 }));
  });

  it('describes every route the service answers, and no other', () => {
    const router = (t.app.getHttpAdapter().getInstance() as unknown as { router: RouterLayers }).router;
    const served = router.stack
      .filter((layer) => layer.route)
      .flatMap((layer) => layer.route!.stack.map((handler) => `${handler.method!.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`))
      // Swagger UI and the document itself are not operations of the API.
      .filter((route) => !/ \/(docs|openapi\.json)/.test(route));
    const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect([...new Set(served)].sort()).toEqual(documented.sort());
  });

  it('declares the API key, the request id, Idempotency-Key on every POST and If-Match on every conditional write', () => {
    expect(document.components.securitySchemes.api_key).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }));
    const parameters = (method: string, path: string) =>
      ((document.paths[path][method] as { parameters?: { name: string; in: string }[] }).parameters ?? []).map((p) => `${p.in}:${p.name}`);
    for (const [path, item] of Object.entries(document.paths)) {
      if (path.startsWith('/v1/')) for (const method of Object.keys(item)) expect(parameters(method, path)).toContain('header:X-Request-Id');
      if (item.post) expect(parameters('post', path)).toContain('header:Idempotency-Key');
    }
    for (const [method, path] of [['patch', '/v1/identity/accounts/{id}'], ['post', '/v1/identity/accounts/{id}/status'], ['post', '/v1/identity/accounts/{id}/redact']]) {
      expect(parameters(method, path)).toContain('header:If-Match');
    }
  });

  it('serves Swagger UI at /docs, whose scripts and styles its Content-Security-Policy allows', async () => {
    const page = await t.http().get('/docs').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger-ui');
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toMatch(/script-src 'self'/);
    for (const asset of [...page.text.matchAll(/(?:src|href)="\.\/docs\/([^"]+)"/g)].map((m) => m[1])) {
      await t.http().get(`/docs/${asset}`).expect(200);
    }
  });

  it('is what the suite checks every answer against: this file\'s answers were checked', async () => {
    await t.create(uniqueGuideAttributes()).set('X-Api-Key', t.key).expect(201);
    await t.http().get(ACCOUNTS).set('X-Api-Key', 'sk_staging_unknownunknownunknownunknown00').expect(401);
    expect(answersChecked()).toBeGreaterThan(3);
  });

  describe('the check', () => {
    const exchange = (status: number, body: unknown, headers: Record<string, unknown> = {}) => ({
      method: 'GET',
      url: '/v1/identity/accounts?page[size]=1',
      status,
      headers: { 'content-type': 'application/vnd.api+json; charset=utf-8', 'x-request-id': 'req_1', etag: 'W/"1"', ...headers },
      body: JSON.stringify(body),
    });

    it('accepts an answer the document describes', () => {
      expect(openApiChecker(document)(exchange(200, { data: [], links: { prev: null, next: null } }))).toEqual([]);
    });

    it('refuses an undeclared status, an undeclared error code, a missing required header and a body off its schema', () => {
      const check = openApiChecker(document);
      expect(check(exchange(418, { errors: [] }))).toEqual([expect.stringContaining('declares no 418 answer')]);
      expect(check(exchange(400, { errors: [{ status: '400', code: 'made_up', title: 'Bad Request', detail: 'x' }] }))).toEqual([expect.stringContaining('does not match')]);
      expect(check(exchange(200, { data: [], links: { prev: null, next: null } }, { 'x-request-id': undefined }))).toEqual([expect.stringContaining('X-Request-Id is required')]);
      expect(check(exchange(200, { data: [{ type: 'account' }], links: { prev: null, next: null } }))).toEqual([expect.stringContaining('does not match')]);
    });

    it('refuses a request body the service accepted but the document does not allow', () => {
      const check = openApiChecker(document);
      const created = (requestBody: unknown) =>
        check({
          method: 'POST',
          url: '/v1/identity/accounts',
          status: 201,
          headers: { 'x-request-id': 'req_1', etag: '"0"', location: 'http://localhost/v1/identity/accounts/acc_01HQ3Z8N5V2YB7K4M9TXJ6CWDE' },
          body: undefined,
          requestContentType: 'application/json',
          requestBody,
        });
      expect(created({ data: { type: 'account', attributes: { entity_type: 'person' } } })).toEqual([]);
      expect(created({ data: { type: 'account', attributes: { entity_type: 'person', nickname: 'Jo' } } })).toEqual([expect.stringContaining('the accepted request body does not match')]);
    });
  });
});
