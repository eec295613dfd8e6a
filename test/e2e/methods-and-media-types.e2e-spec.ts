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

describe('media types', () => {
  const t = appForEachSuite();

  const patchAs = (id: string, contentType: string, attributes: Record<string, unknown>) =>
    t.http().patch(`${ACCOUNTS}/${id}`).set('X-Api-Key', t.key).set('Content-Type', contentType).send(JSON.stringify({ data: { type: 'account', id, attributes } }));

  it('accepts application/merge-patch+json on PATCH, with the same merge: absent kept, null clears', async () => {
    const { id } = (await t.create({ entity_type: 'person', contact: { email: 'jane@example.com', phone: '+14155550100' }, address: { line1: '1 Main St' } }).expect(201)).body.data;
    const patched = await patchAs(id, 'application/merge-patch+json', { contact: { email: 'new@example.com' }, address: null }).expect(200);
    expect(patched.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(patched.body.data.attributes.contact).toEqual({ email: 'new@example.com', phone: '+14155550100' });
    expect(patched.body.data.attributes.address).toBeNull();
    expect(patched.headers.etag).toBe('"1"');
    expect((await t.get(id).expect(200)).body).toEqual(patched.body);

    const withCharset = await patchAs(id, 'application/merge-patch+json; charset=utf-8', { contact: { phone: null } }).expect(200);
    expect(withCharset.body.data.attributes.contact).toEqual({ email: 'new@example.com', phone: null });
  });

  it('validates a merge patch like any PATCH', async () => {
    const { id } = (await t.create({ entity_type: 'person' }).expect(201)).body.data;
    const refused = await patchAs(id, 'application/merge-patch+json', { contact: { email: 'nope' } }).expect(422);
    expect(refused.body.errors[0]).toMatchObject({ code: 'invalid_attribute', source: { pointer: '/data/attributes/contact/email' } });
  });

  it('refuses application/merge-patch+json on POST with 415, saying what is accepted there', async () => {
    const count = async () => (await t.http().get(`${ACCOUNTS}?page[size]=100`).set('X-Api-Key', t.key).expect(200)).body.data.length;
    const before = await count();
    const body = JSON.stringify({ data: { type: 'account', attributes: { entity_type: 'person' } } });
    const response = await t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Content-Type', 'application/merge-patch+json').send(body).expect(415);
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        code: 'unsupported_media_type',
        detail: 'Content-Type must be application/json or application/vnd.api+json (application/merge-patch+json is for PATCH only)',
        source: { header: 'Content-Type' },
      }),
    ]);
    expect(await count()).toBe(before);
  });

  it('names every accepted type in the 415 of a PATCH', async () => {
    const { id } = (await t.create({ entity_type: 'person' }).expect(201)).body.data;
    const response = await patchAs(id, 'text/plain', {}).expect(415);
    expect(response.body.errors[0].detail).toBe('Content-Type must be application/json or application/vnd.api+json or application/merge-patch+json');
  });
});
