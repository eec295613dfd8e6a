import { AccountReadModel } from '../../src/accounts/projection/account-read-model.port';
import { ACCOUNTS, removeDir, startApp, TestApp } from '../support/app-harness';

// Logs (pino, nestjs-pino): one JSON line per request with its id, route pattern, status and
// duration, at the level LOG_LEVEL asks; never a key, a header or a value a client sent, even at
// debug, because no line is ever given a body or the request itself.

const PERSONAL = {
  first: 'Philomena',
  last: 'Quackenbush',
  birth: '1961-07-23',
  email: 'philomena.quackenbush@logs.example',
  phone: '+4915123456789',
  line1: '17 Gingerbread Lane',
  locality: 'Kittiwake Bay',
  postal: 'KB-90210',
  number: 'ID-7788-9911',
  externalId: 'crm-customer-55555',
  newEmail: 'p.quackenbush@moved.example',
  reason: 'verified in person by Ottoline Fairweather',
  badEmail: 'not an email but Zebedee Marchbanks',
  tooLong: 'Bartholomew'.repeat(30),
};

interface Line {
  level: string;
  message: string;
  request_id?: string;
  [field: string]: unknown;
}

describe('logs, at debug level', () => {
  let t: TestApp;
  let lines: Line[];
  let id: string;
  const requestId = 'client-chosen.request:id-1';

  beforeAll(async () => {
    t = await startApp({ env: { LOG_LEVEL: 'debug' } });
    const created = await t
      .create({
        external_id: PERSONAL.externalId,
        entity_type: 'person',
        person: { name: { first: PERSONAL.first, last: PERSONAL.last }, birth_date: PERSONAL.birth },
        contact: { email: PERSONAL.email, phone: PERSONAL.phone },
        address: { line1: PERSONAL.line1, locality: PERSONAL.locality, postal_code: PERSONAL.postal, country_code: 'GB' },
        identity_numbers: [{ number: PERSONAL.number, class: 'passport', issuing_country_code: 'GB' }],
      })
      .set('X-Request-Id', requestId)
      .expect(201);
    id = created.body.data.id;
    await t.patch(id, { contact: { email: PERSONAL.newEmail } }).expect(200);
    await t
      .http()
      .post(`${ACCOUNTS}/${id}/status`)
      .set('X-Api-Key', t.key)
      .send({ data: { type: 'account-status-change', attributes: { status: 'active', reason: PERSONAL.reason } } })
      .expect(200);
    // Refused, with personal values in the body, in the path and in the query.
    await t.patch(id, { contact: { email: PERSONAL.badEmail }, person: { name: { first: PERSONAL.tooLong } } }).expect(422);
    await t.http().get(`${ACCOUNTS}/${encodeURIComponent(PERSONAL.email)}`).set('X-Api-Key', t.key).expect(404);
    await t.http().get(`${ACCOUNTS}?filter[external_id]=${PERSONAL.externalId}`).set('X-Api-Key', t.key).expect(200);
    await t.http().get(`${ACCOUNTS}?filter[email]=${encodeURIComponent(PERSONAL.email)}`).set('X-Api-Key', t.key).expect(400);
    lines = t.logs.map((line) => JSON.parse(line) as Line);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('writes debug lines (the proof that nothing was filtered out by level)', () => {
    expect(lines.filter((line) => line.level === 'debug' && line.message === 'command')).toContainEqual(
      expect.objectContaining({ command: 'CreateAccount', outcome: 'ok', account_id: id }),
    );
  });

  it('writes no key, no header and no value any request carried', () => {
    const text = t.logs.join('\n');
    for (const value of [...Object.values(PERSONAL), encodeURIComponent(PERSONAL.email), t.key, t.key.slice(-20)]) expect(text).not.toContain(value);
  });

  it('writes one line per request: its id, method, route pattern, status and duration, and nothing else', () => {
    const requests = lines.filter((line) => line.message === 'request');
    expect(requests).toHaveLength(7);
    for (const line of requests) {
      expect(Object.keys(line).sort()).toEqual(['duration_ms', 'hostname', 'level', 'message', 'method', 'pid', 'request_id', 'route', 'status', 'time']);
      expect(line.duration_ms).toEqual(expect.any(Number));
    }
    expect(requests[0]).toMatchObject({ level: 'info', request_id: requestId, method: 'POST', route: '/v1/identity/accounts', status: 201 });
    expect(requests.map((line) => `${line.method} ${line.route} ${line.status}`)).toEqual([
      'POST /v1/identity/accounts 201',
      'PATCH /v1/identity/accounts/:id 200',
      'POST /v1/identity/accounts/:id/status 200',
      'PATCH /v1/identity/accounts/:id 422',
      'GET /v1/identity/accounts/:id 404',
      'GET /v1/identity/accounts 200',
      'GET /v1/identity/accounts 400',
    ]);
  });

  it('gives the lines written while serving a request that request\'s id', () => {
    const command = lines.find((line) => line.message === 'command' && line.command === 'CreateAccount');
    expect(command?.request_id).toBe(requestId);
  });
});

describe('an unhandled error', () => {
  it("is logged with its request's id (the exception filter logs with request.log)", async () => {
    const t = await startApp();
    try {
      const readModel = t.app.get(AccountReadModel);
      readModel.list = () => Promise.reject(new Error('the read model failed'));
      const answer = await t.http().get(ACCOUNTS).set('X-Api-Key', t.key).set('X-Request-Id', 'failing-request-1').expect(500);
      expect(answer.headers['x-request-id']).toBe('failing-request-1');
      const logged = t.logs.map((line) => JSON.parse(line) as Line).filter((line) => line.message === 'unhandled error');
      expect(logged).toEqual([expect.objectContaining({ level: 'error', request_id: 'failing-request-1', error: 'Error' })]);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});

describe('LOG_LEVEL', () => {
  it('warn: no line per request, and nothing of Nest\'s start-up', async () => {
    const t = await startApp({ env: { LOG_LEVEL: 'warn' } });
    try {
      await t.create({ entity_type: 'person' }).expect(201);
      await t.http().get(ACCOUNTS).expect(401);
      await t.close();
      expect(t.logs).toEqual([]);
    } finally {
      removeDir(t.dataDir);
    }
  });
});
