import request from 'supertest';
import { MetricsServer } from '../../src/metrics/metrics-server';
import { ACCOUNTS, appForEachSuite, removeDir, startApp } from '../support/app-harness';
import { parsePrometheusText, Sample, valueOf } from '../support/prometheus-text';

// GET /metrics: Prometheus text, without a key, counting what the service did, by labels that hold
// nothing a client wrote.

const PERSONAL = { first: 'Xanthippe', email: 'xanthippe.metrics@example.com', external: 'metrics-user-77' };

describe('GET /metrics', () => {
  const t = appForEachSuite();
  const scrape = async (): Promise<{ text: string; samples: Sample[] }> => {
    const response = await t.http().get('/metrics').expect(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return { text: response.text, samples: parsePrometheusText(response.text) };
  };

  it('answers without a key, in the Prometheus text format, with the process metrics', async () => {
    const { samples } = await scrape();
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samples.map((s) => s.name)).toEqual(expect.arrayContaining(['accounts_projection_position', 'accounts_projection_lag_seconds', 'accounts_projection_following']));
  });

  it('counts the requests made, by method, route pattern and status, and times them', async () => {
    const id = (await t.create({ entity_type: 'person', external_id: PERSONAL.external, person: { name: { first: PERSONAL.first } }, contact: { email: PERSONAL.email } }).expect(201)).body.data.id;
    const read = { method: 'GET', route: '/v1/identity/accounts/:id', status: '200' };
    const before = await scrape();
    for (let i = 0; i < 3; i++) await t.get(id).expect(200);
    await t.get('acc_00000000000000000000000000').expect(404);
    await t.http().get(ACCOUNTS).expect(401);
    const after = await scrape();
    expect(valueOf(after.samples, 'http_requests_total', read) - valueOf(before.samples, 'http_requests_total', read)).toBe(3);
    expect(valueOf(after.samples, 'http_request_duration_seconds_count', read) - valueOf(before.samples, 'http_request_duration_seconds_count', read)).toBe(3);
    const notFound = { method: 'GET', route: '/v1/identity/accounts/:id', status: '404' };
    expect(valueOf(after.samples, 'http_requests_total', notFound) - valueOf(before.samples, 'http_requests_total', notFound)).toBe(1);
    const refused = { method: 'GET', route: '/v1/identity/accounts', status: '401' };
    expect(valueOf(after.samples, 'http_requests_total', refused) - valueOf(before.samples, 'http_requests_total', refused)).toBe(1);
    // Each scrape counts itself, once it is answered.
    expect(valueOf(after.samples, 'http_requests_total', { route: '/metrics' })).toBeGreaterThanOrEqual(1);
    // Labels carry route patterns, never the path, the id, a key or a value a client wrote.
    for (const secret of [id, t.key, ...Object.values(PERSONAL)]) expect(after.text).not.toContain(secret);
  });

  it('counts commands by type and outcome, and the event store\'s appends', async () => {
    const before = (await scrape()).samples;
    const id = (await t.create({ entity_type: 'business', external_id: 'metrics-taken' }).expect(201)).body.data.id;
    await t.create({ entity_type: 'business', external_id: 'metrics-taken' }).expect(409);
    await t.http().post(`${ACCOUNTS}/${id}/status`).set('X-Api-Key', t.key).send({ data: { type: 'account-status-change', attributes: { status: 'active' } } }).expect(200);
    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('accounts_commands_total', { command: 'CreateAccount', outcome: 'ok' })).toBe(1);
    expect(delta('accounts_commands_total', { command: 'CreateAccount', outcome: 'external_id_taken' })).toBe(1);
    expect(delta('accounts_commands_total', { command: 'ChangeStatus', outcome: 'ok' })).toBe(1);
    expect(delta('accounts_command_duration_seconds_count', { command: 'CreateAccount' })).toBe(2);
    // The create appends the external id's claim and the account's event; the refused one only tries its claim.
    expect(delta('event_store_append_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThanOrEqual(3);
    expect(delta('event_store_append_batch_size_count')).toBe(delta('event_store_append_duration_seconds_count'));
  });

  it('reports the projection at the head, following, with no lag', async () => {
    const { id } = (await t.create({ entity_type: 'person' }).expect(201)).body.data;
    // A write answers from its own fold; a read waits until the read model has applied it.
    await t.get(id).expect(200);
    const { samples } = await scrape();
    expect(valueOf(samples, 'accounts_projection_position')).toBeGreaterThan(0);
    expect(valueOf(samples, 'accounts_projection_position')).toBe(valueOf(samples, 'accounts_projection_head_position'));
    expect(valueOf(samples, 'accounts_projection_lag_seconds')).toBe(0);
    expect(valueOf(samples, 'accounts_projection_following')).toBe(1);
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics on a port of its own and no longer on the main port', async () => {
    const t = await startApp({ env: { METRICS_PORT: '0' } });
    try {
      await t.http().get('/metrics').expect(404);
      const port = t.app.get(MetricsServer).port();
      expect(port).toEqual(expect.any(Number));
      const response = await request(`http://127.0.0.1:${port}`).get('/metrics').expect(200);
      expect(valueOf(parsePrometheusText(response.text), 'http_requests_total', { route: 'none', status: '404' })).toBe(1);
      await request(`http://127.0.0.1:${port}`).get('/v1/identity/accounts').expect(404);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});
