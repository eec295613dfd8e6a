import { AccountReadModel } from '../../src/accounts/projection/account-read-model.port';
import { ApiKeys } from '../../src/auth/api-keys';
import { ACCOUNTS, appForEachSuite } from '../support/app-harness';
import { parsePrometheusText, valueOf } from '../support/prometheus-text';

// Limits and headers: RATE_LIMIT_PER_MINUTE per API key (429 with Retry-After and RateLimit-*),
// REQUEST_TIMEOUT_MS (503), and helmet's headers on every answer.

describe('RATE_LIMIT_PER_MINUTE', () => {
  const t = appForEachSuite({ env: { RATE_LIMIT_PER_MINUTE: '5' } });

  it('counts down in RateLimit-* headers, then answers 429 with Retry-After, for that key only', async () => {
    for (let remaining = 4; remaining >= 0; remaining--) {
      const answer = await t.http().get(ACCOUNTS).set('X-Api-Key', t.key).expect(200);
      expect(answer.headers['ratelimit-limit']).toBe('5');
      expect(answer.headers['ratelimit-remaining']).toBe(String(remaining));
      expect(Number(answer.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    // Over the limit, on any route of the same key: a write is refused before anything is recorded.
    const refused = await t.create({ entity_type: 'person', external_id: 'not-written' }).expect(429);
    expect(refused.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(refused.body.errors).toEqual([expect.objectContaining({ status: '429', code: 'rate_limited', title: 'Too Many Requests' })]);
    const wait = Number(refused.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(refused.headers).toMatchObject({ 'ratelimit-limit': '5', 'ratelimit-remaining': '0', 'ratelimit-reset': String(wait) });

    // Another key has its own allowance; probes and metrics have none.
    const other = (await t.app.get(ApiKeys).create('acme', 'staging', ['accounts:read', 'accounts:write'])).key;
    await t.http().get(`${ACCOUNTS}?filter[external_id]=not-written`).set('X-Api-Key', other).expect(200).expect((answer) => expect(answer.body.data).toEqual([]));
    for (let i = 0; i < 8; i++) await t.http().get('/health/live').expect(200);
    const metrics = parsePrometheusText((await t.http().get('/metrics').expect(200)).text);
    expect(valueOf(metrics, 'rate_limited_requests_total')).toBe(1);
    expect(valueOf(metrics, 'http_requests_total', { route: '/v1/identity/accounts', status: '429' })).toBe(1);
  });
});

describe('REQUEST_TIMEOUT_MS', () => {
  // Long enough for a cold app's first create on a busy machine (each test writes one before hanging a store).
  const t = appForEachSuite({ env: { REQUEST_TIMEOUT_MS: '1500' } });

  it('answers 503 request_timeout with Retry-After when a store does not answer in time', async () => {
    const id = (await t.create({ entity_type: 'person' }).expect(201)).body.data.id;
    const readModel = t.app.get(AccountReadModel);
    const get = readModel.get.bind(readModel);
    readModel.get = () => new Promise(() => undefined);
    try {
      const started = Date.now();
      const answer = await t.get(id).expect(503);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(answer.body.errors).toEqual([expect.objectContaining({ code: 'request_timeout' })]);
      expect(answer.headers['retry-after']).toBe('1');
    } finally {
      readModel.get = get;
    }
    await t.get(id).expect(200);
  });

  it('drops the answer a handler gives after the 503: nothing more is written, nothing logged as an error', async () => {
    const id = (await t.create({ entity_type: 'person' }).expect(201)).body.data.id;
    const readModel = t.app.get(AccountReadModel);
    const get = readModel.get.bind(readModel);
    let answerLate: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (readModel.get = (...args) => new Promise((late) => (answerLate = () => late(get(...args).finally(resolve))))));
    try {
      const answer = await t.get(id).expect(503);
      expect(answer.body.errors).toEqual([expect.objectContaining({ code: 'request_timeout' })]);
      answerLate();
      await answered;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      readModel.get = get;
    }
    expect(t.logs.filter((line) => line.includes('unhandled error'))).toEqual([]);
    await t.get(id).expect(200);
  });
});

describe('helmet', () => {
  const t = appForEachSuite();

  it('sets its headers on API answers, errors and probes alike', async () => {
    for (const answer of [await t.http().get(ACCOUNTS).set('X-Api-Key', t.key), await t.http().get(ACCOUNTS), await t.http().get('/health/live')]) {
      expect(answer.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'referrer-policy': 'no-referrer' });
      expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
  });
});
