import { ACCOUNTS, appForEachSuite } from '../support/app-harness';

// Which methods each path answers (405 with Allow for the others), and which media types a body may
// come in: JSON, JSON:API, and on PATCH a JSON merge patch (RFC 7396).

describe('a method the path does not answer: 405 with Allow', () => {
  const t = appForEachSuite();
  let id: string;

  beforeAll(async () => {
    id = (await t.create({ entity_type: 'person' }).expect(201)).body.data.id;
  });

  it.each([
    ['DELETE', 'the account', () => `${ACCOUNTS}/${id}`, 'GET, HEAD, PATCH'],
    ['PUT', 'the account', () => `${ACCOUNTS}/${id}`, 'GET, HEAD, PATCH'],
    ['PATCH', 'the collection', () => ACCOUNTS, 'GET, HEAD, POST'],
    ['DELETE', 'the collection', () => ACCOUNTS, 'GET, HEAD, POST'],
    ['GET', 'the status endpoint', () => `${ACCOUNTS}/${id}/status`, 'POST'],
    ['PUT', 'the redact endpoint', () => `${ACCOUNTS}/${id}/redact`, 'POST'],
    ['POST', 'an account id that does not exist', () => `${ACCOUNTS}/acc_01ARZ3NDEKTSV4RRFFQ69G5FAV`, 'GET, HEAD, PATCH'],
  ])('answers %s on %s with 405, Allow and a JSON:API error naming the methods', async (method, _, path, allow) => {
    const before = await t.get(id).expect(200);
    const response = await t.http()[method.toLowerCase() as 'get'](path()).set('X-Api-Key', t.key);
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(response.body).toEqual({
      errors: [{ status: '405', code: 'method_not_allowed', title: 'Method Not Allowed', detail: expect.stringContaining(`answers ${allow}; ${method} is not one of them`) }],
    });
    const after = await t.get(id).expect(200);
    expect([after.headers.etag, after.body]).toEqual([before.headers.etag, before.body]);
  });

  it('names the route pattern, never the path a client sent', async () => {
    const response = await t.http().delete(`${ACCOUNTS}/jane.doe@example.com`).set('X-Api-Key', t.key).expect(405);
    expect(response.body.errors[0].detail).toBe('/v1/identity/accounts/{id} answers GET, HEAD, PATCH; DELETE is not one of them');
  });

  it('still answers 404 for a path no route has, whatever the method', async () => {
    for (const send of [() => t.http().delete('/v1/identity/nothing-here'), () => t.http().get(`${ACCOUNTS}/${id}/frobnicate`).set('X-Api-Key', t.key)]) {
      const response = await send();
      expect(response.status).toBe(404);
      expect(response.headers.allow).toBeUndefined();
      expect(response.body.errors[0].code).toBe('not_found');
    }
  });
});
