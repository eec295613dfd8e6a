import type { Response } from 'supertest';
import { ACCOUNTS, removeDir, startApp, TestApp } from '../support/app-harness';

// What a client sees when it sends something wrong: the status, the JSON:API error code and where
// the problem is (source.pointer / header), every problem in one answer, and nothing written.

const UNKNOWN_ID = 'acc_01ARZ3NDEKTSV4RRFFQ69G5FAV';
const NEXT_YEAR = new Date().getUTCFullYear() + 1;

/** [status, code, pointer or header] of each error, in the order the service lists them. */
const problems = (response: Response) =>
  (response.body.errors as { status: string; code: string; source?: { pointer?: string; header?: string } }[]).map((e) => [
    e.status,
    e.code,
    e.source?.pointer ?? e.source?.header,
  ]);

const attributes = (path: string) => `/data/attributes/${path}`;

function expectJsonApiError(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
  // An error names no revision: an ETag here could be mistaken for the account's.
  expect(response.headers.etag).toBeUndefined();
  expect(Array.isArray(response.body.errors)).toBe(true);
  for (const error of response.body.errors) {
    expect(error).toEqual(expect.objectContaining({ status: String(status), code: expect.any(String), title: expect.any(String), detail: expect.any(String) }));
  }
}

describe('bad input: each refusal says what and where, all at once, and writes nothing', () => {
  let t: TestApp;
  let person: string;
  let business: string;

  beforeAll(async () => {
    t = await startApp();
    person = (await t.create({ entity_type: 'person', person: { name: { first: 'Ada' } } }).expect(201)).body.data.id;
    business = (await t.create({ entity_type: 'business', business: { legal_name: 'Acme Ltd' } }).expect(201)).body.data.id;
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  const postRaw = (body: string | object, contentType = 'application/json') =>
    t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Content-Type', contentType).send(body);
  const patchRaw = (id: string, body: string | object, contentType = 'application/json') =>
    t.http().patch(`${ACCOUNTS}/${id}`).set('X-Api-Key', t.key).set('Content-Type', contentType).send(body);
  const accountIds = async (): Promise<string[]> =>
    (await t.http().get(`${ACCOUNTS}?page[size]=100`).set('X-Api-Key', t.key).expect(200)).body.data.map((a: { id: string }) => a.id);

  /** Sends a create that must be refused; no account may appear in the list because of it. */
  async function refusedCreate(send: () => PromiseLike<Response>): Promise<Response> {
    const before = await accountIds();
    const response = await send();
    expect(await accountIds()).toEqual(before);
    return response;
  }

  /** Sends a PATCH that must be refused; the account must read exactly as before, ETag included. */
  async function refusedPatch(id: string, send: () => PromiseLike<Response>): Promise<Response> {
    const before = await t.get(id).expect(200);
    const response = await send();
    const after = await t.get(id).expect(200);
    expect(after.headers.etag).toBe(before.headers.etag);
    expect(after.body).toEqual(before.body);
    return response;
  }

  describe('the body is not a JSON:API document', () => {
    it('answers malformed JSON with 400 malformed_json, on create and on PATCH', async () => {
      const created = await refusedCreate(() => postRaw('{"data": {"type": "account",'));
      expectJsonApiError(created, 400);
      expect(created.body.errors).toEqual([expect.objectContaining({ code: 'malformed_json', detail: 'The body is not valid JSON' })]);

      const patched = await refusedPatch(person, () => patchRaw(person, `{"data": {"type": "account", "id": "${person}"`));
      expectJsonApiError(patched, 400);
      expect(problems(patched)).toEqual([['400', 'malformed_json', undefined]]);
    });

    it.each([
      ['an array', '[]'],
      ['a string', '"account"'],
      ['null', 'null'],
      ['a number', '42'],
      ['true', 'true'],
      ['an object without data', '{}'],
      ['data: null', '{"data": null}'],
      ['data: an array', '{"data": [{"type": "account"}]}'],
      ['data: a string', '{"data": "account"}'],
    ])('answers a body that is %s with 400 invalid_document at /data', async (_, body) => {
      const created = await refusedCreate(() => postRaw(body));
      expectJsonApiError(created, 400);
      expect(problems(created)).toEqual([['400', 'invalid_document', '/data']]);

      const patched = await refusedPatch(person, () => patchRaw(person, body));
      expectJsonApiError(patched, 400);
      expect(problems(patched)).toEqual([['400', 'invalid_document', '/data']]);
    });

    it('answers data.attributes that is not an object with 400 at /data/attributes', async () => {
      const response = await refusedCreate(() => postRaw({ data: { type: 'account', attributes: ['entity_type', 'person'] } }));
      expectJsonApiError(response, 400);
      expect(problems(response)).toEqual([['400', 'invalid_document', '/data/attributes']]);
    });

    it('answers a body over 1 MiB (here 2 MiB) with 413, on create and on PATCH', async () => {
      const huge = 'x'.repeat(2 * 1024 * 1024);
      const created = await refusedCreate(() => t.create({ entity_type: 'person', person: { name: { first: huge } } }));
      expectJsonApiError(created, 413);
      expect(problems(created)).toEqual([['413', 'payload_too_large', undefined]]);

      const patched = await refusedPatch(person, () => t.patch(person, { person: { name: { first: huge } } }));
      expectJsonApiError(patched, 413);
      expect(problems(patched)).toEqual([['413', 'payload_too_large', undefined]]);
    });

    it('answers a text/plain body with 415 pointing at the Content-Type header, on create and on PATCH', async () => {
      const body = JSON.stringify({ data: { type: 'account', attributes: { entity_type: 'person' } } });
      const created = await refusedCreate(() => postRaw(body, 'text/plain'));
      expectJsonApiError(created, 415);
      expect(problems(created)).toEqual([['415', 'unsupported_media_type', 'Content-Type']]);

      const patched = await refusedPatch(person, () => patchRaw(person, JSON.stringify({ data: { type: 'account', id: person, attributes: {} } }), 'text/plain'));
      expectJsonApiError(patched, 415);
      expect(problems(patched)).toEqual([['415', 'unsupported_media_type', 'Content-Type']]);
    });

    it('answers a charset or a Content-Encoding it cannot read with 415 pointing at the header at fault', async () => {
      const body = JSON.stringify({ data: { type: 'account', attributes: { entity_type: 'person' } } });
      const latin1 = await refusedCreate(() => postRaw(body, 'application/json; charset=latin1'));
      expectJsonApiError(latin1, 415);
      expect(problems(latin1)).toEqual([['415', 'unsupported_media_type', 'Content-Type']]);

      const zstd = await refusedCreate(() => t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Content-Type', 'application/json').set('Content-Encoding', 'zstd').send(body));
      expectJsonApiError(zstd, 415);
      expect(zstd.body.errors).toEqual([
        expect.objectContaining({ code: 'unsupported_media_type', detail: 'Send the body uncompressed, or with Content-Encoding gzip, deflate or br', source: { header: 'Content-Encoding' } }),
      ]);
    });

    it('answers a body nested absurdly deep with 400, not a crash', async () => {
      const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
      const response = await refusedCreate(() => postRaw(`{"data":{"type":"account","attributes":{"entity_type":"person","person":${deep}}}}`));
      expectJsonApiError(response, 400);
      expect(problems(response)).toEqual([['400', 'invalid_document', undefined]]);
    });
  });

  describe('the envelope', () => {
    it('answers a data.type other than "account" with 409 at /data/type, on create and on PATCH', async () => {
      const created = await refusedCreate(() => postRaw({ data: { type: 'accounts', attributes: { entity_type: 'person' } } }));
      expectJsonApiError(created, 409);
      expect(problems(created)).toEqual([['409', 'type_mismatch', '/data/type']]);

      const patched = await refusedPatch(person, () => patchRaw(person, { data: { type: 'person', id: person, attributes: { external_id: 'renamed' } } }));
      expectJsonApiError(patched, 409);
      expect(problems(patched)).toEqual([['409', 'type_mismatch', '/data/type']]);
    });

    it('answers a client-supplied data.id on create with 403 at /data/id', async () => {
      const response = await refusedCreate(() => postRaw({ data: { type: 'account', id: UNKNOWN_ID, attributes: { entity_type: 'person' } } }));
      expectJsonApiError(response, 403);
      expect(problems(response)).toEqual([['403', 'client_generated_id', '/data/id']]);
      await t.get(UNKNOWN_ID).expect(404);
    });

    it('answers a PATCH whose data.id differs from the path with 409 at /data/id, and changes neither account', async () => {
      const other = await t.get(business).expect(200);
      const response = await refusedPatch(person, () => patchRaw(person, { data: { type: 'account', id: business, attributes: { external_id: 'renamed' } } }));
      expectJsonApiError(response, 409);
      expect(problems(response)).toEqual([['409', 'id_mismatch', '/data/id']]);
      const otherAfter = await t.get(business).expect(200);
      expect([otherAfter.headers.etag, otherAfter.body]).toEqual([other.headers.etag, other.body]);
    });
  });

  describe('attributes', () => {
    it.each([
      ['person: "x"', { entity_type: 'person', person: 'x' }, 'person', 'person must be an object { name, birth_date, sex }, or null'],
      ['identity_numbers: "x"', { entity_type: 'person', identity_numbers: 'x' }, 'identity_numbers', 'identity_numbers must be an array of at most 20 objects { number, class, issuing_country_code }'],
      ['external_id: 5', { entity_type: 'person', external_id: 5 }, 'external_id', 'external_id must be a string of 1 to 255 printable characters (no control characters), or null'],
      [
        'percentage_of_share: "50"',
        { entity_type: 'business', business: { shareholders: [{ name: 'Jane Doe', percentage_of_share: '50' }] } },
        'business/shareholders/0/percentage_of_share',
        'business.shareholders.0.percentage_of_share must be a number from 0 to 100',
      ],
      ['contact: []', { entity_type: 'person', contact: [] }, 'contact', 'contact must be an object { email, phone }, or null'],
      ['identity_numbers: [[...]]', { entity_type: 'person', identity_numbers: [[{ number: '1', class: 'ssn' }]] }, 'identity_numbers', 'identity_numbers must hold only objects { number, class, issuing_country_code }'],
    ])('answers a wrong type (%s) with 422 invalid_attribute at its pointer', async (_, attrs, path, detail) => {
      const response = await refusedCreate(() => t.create(attrs));
      expectJsonApiError(response, 422);
      expect(response.body.errors).toEqual([expect.objectContaining({ code: 'invalid_attribute', detail, source: { pointer: attributes(path) } })]);
    });

    it('answers wrong types in a PATCH the same way', async () => {
      const response = await refusedPatch(person, () => t.patch(person, { person: 'x', identity_numbers: 'x', external_id: 5 }));
      expectJsonApiError(response, 422);
      expect(problems(response)).toEqual(
        expect.arrayContaining([
          ['422', 'invalid_attribute', attributes('person')],
          ['422', 'invalid_attribute', attributes('identity_numbers')],
          ['422', 'invalid_attribute', attributes('external_id')],
        ]),
      );
      expect(response.body.errors).toHaveLength(3);
    });

    it('names every unknown attribute, top-level and nested, in ONE 422', async () => {
      const body = `{"data":{"type":"account","attributes":{
        "entity_type":"person", "nickname":"Jay", "__proto__":{"admin":true},
        "person":{"name":{"first":"Jane","nick":"J"},"height":180,"toString":"x"},
        "contact":{"email":"jane@example.com","fax":"+1234567"},
        "identity_numbers":[{"number":"1","class":"ssn","expires":"2030-01-01"}]}}}`;
      const response = await refusedCreate(() => postRaw(body));
      expectJsonApiError(response, 422);
      const unknown = ['nickname', '__proto__', 'person/name/nick', 'person/height', 'person/toString', 'contact/fax', 'identity_numbers/0/expires'];
      expect(problems(response)).toEqual(expect.arrayContaining(unknown.map((path) => ['422', 'unknown_attribute', attributes(path)])));
      expect(response.body.errors).toHaveLength(unknown.length);
      for (const path of unknown) {
        expect(response.body.errors).toContainEqual(expect.objectContaining({ detail: expect.stringMatching(new RegExp(`^Unknown attribute "${path.replace(/\//g, '.')}": \\S+ may have only `)) }));
      }
      expect(({} as Record<string, unknown>).admin).toBeUndefined();

      const patched = await refusedPatch(person, () => t.patch(person, { nickname: 'Jay', person: { name: { nick: 'J' } } }));
      expectJsonApiError(patched, 422);
      expect(problems(patched)).toEqual([
        ['422', 'unknown_attribute', attributes('nickname')],
        ['422', 'unknown_attribute', attributes('person/name/nick')],
      ]);
    });

    it.each([
      ['February 30', '2001-02-30', 'person.birth_date must be a real calendar date YYYY-MM-DD, not before 1900-01-01 and not in the future'],
      ['a date in the future', `${NEXT_YEAR}-01-01`, 'person.birth_date must not be in the future'],
      ['a date before 1900', '1899-12-31', 'person.birth_date must be a real calendar date YYYY-MM-DD, not before 1900-01-01 and not in the future'],
      ['not YYYY-MM-DD', '15/05/1990', 'person.birth_date must be a real calendar date YYYY-MM-DD, not before 1900-01-01 and not in the future'],
    ])('answers a birth date that is %s with 422 at /data/attributes/person/birth_date', async (_, birthDate, detail) => {
      const created = await refusedCreate(() => t.create({ entity_type: 'person', person: { birth_date: birthDate } }));
      expectJsonApiError(created, 422);
      expect(created.body.errors).toEqual([expect.objectContaining({ code: 'invalid_attribute', detail, source: { pointer: attributes('person/birth_date') } })]);

      const patched = await refusedPatch(person, () => t.patch(person, { person: { birth_date: birthDate } }));
      expectJsonApiError(patched, 422);
      expect(problems(patched)).toEqual([['422', 'invalid_attribute', attributes('person/birth_date')]]);
    });

    it('answers a bad email and a bad phone with one 422 pointing at each', async () => {
      const created = await refusedCreate(() => t.create({ entity_type: 'person', contact: { email: 'jane.example.com', phone: '555-1234' } }));
      expectJsonApiError(created, 422);
      expect(created.body.errors).toEqual([
        expect.objectContaining({ code: 'invalid_attribute', detail: 'contact.email must be a valid email address of at most 254 characters', source: { pointer: attributes('contact/email') } }),
        expect.objectContaining({ code: 'invalid_attribute', detail: 'contact.phone must be a phone number in E.164 format: + and 7 to 15 digits, such as +14155550100', source: { pointer: attributes('contact/phone') } }),
      ]);

      const patched = await refusedPatch(person, () => t.patch(person, { contact: { email: 'a@b@c', phone: '+12' } }));
      expectJsonApiError(patched, 422);
      expect(problems(patched)).toEqual([
        ['422', 'invalid_attribute', attributes('contact/email')],
        ['422', 'invalid_attribute', attributes('contact/phone')],
      ]);
    });

    it('refuses a business object on a person account and a person object on a business account, on create', async () => {
      const onPerson = await refusedCreate(() => t.create({ entity_type: 'person', business: { legal_name: 'Acme Ltd' } }));
      expectJsonApiError(onPerson, 422);
      expect(onPerson.body.errors).toEqual([
        expect.objectContaining({ code: 'invalid_attribute', detail: 'business is only allowed on accounts with entity_type business', source: { pointer: attributes('business') } }),
      ]);

      const onBusiness = await refusedCreate(() => t.create({ entity_type: 'business', person: { name: { first: 'Jane' } } }));
      expectJsonApiError(onBusiness, 422);
      expect(onBusiness.body.errors).toEqual([
        expect.objectContaining({ code: 'invalid_attribute', detail: 'person is only allowed on accounts with entity_type person', source: { pointer: attributes('person') } }),
      ]);
    });

    it('refuses a business object on a person account and a person object on a business account, on PATCH', async () => {
      const onPerson = await refusedPatch(person, () => t.patch(person, { business: { legal_name: 'Acme Ltd' } }));
      expectJsonApiError(onPerson, 422);
      expect(problems(onPerson)).toEqual([['422', 'invalid_attribute', attributes('business')]]);

      const onBusiness = await refusedPatch(business, () => t.patch(business, { person: { name: { first: 'Jane' } } }));
      expectJsonApiError(onBusiness, 422);
      expect(problems(onBusiness)).toEqual([['422', 'invalid_attribute', attributes('person')]]);
    });

    it('answers status in a create or a PATCH with 422 read_only_attribute naming the status endpoint', async () => {
      const created = await refusedCreate(() => t.create({ entity_type: 'person', status: 'active' }));
      expectJsonApiError(created, 422);
      expect(problems(created)).toEqual([['422', 'read_only_attribute', attributes('status')]]);
      expect(created.body.errors[0].detail).toMatch(/POST \/v1\/identity\/accounts\/\S+\/status/);

      const patched = await refusedPatch(person, () => t.patch(person, { status: 'active' }));
      expectJsonApiError(patched, 422);
      expect(problems(patched)).toEqual([['422', 'read_only_attribute', attributes('status')]]);
      expect(patched.body.errors[0].detail).toMatch(/POST \/v1\/identity\/accounts\/\S+\/status/);
      expect((await t.get(person)).body.data.attributes.status).toBe('pending');
    });

    it('answers a change of entity_type on PATCH with 422 at /data/attributes/entity_type', async () => {
      const response = await refusedPatch(person, () => t.patch(person, { entity_type: 'business' }));
      expectJsonApiError(response, 422);
      expect(response.body.errors).toEqual([
        expect.objectContaining({ code: 'read_only_attribute', source: { pointer: attributes('entity_type') }, detail: expect.stringMatching(/entity_type/) }),
      ]);
    });

    it.each([
      ['absent', { external_id: 'no-entity-type' }],
      ['null', { entity_type: null }],
      ['absent, with no attributes at all', undefined],
    ])('answers a create whose entity_type is %s with 422 missing_attribute, and stays writable', async (_, attrs) => {
      const response = await refusedCreate(() => postRaw({ data: { type: 'account', ...(attrs ? { attributes: attrs } : {}) } }));
      expectJsonApiError(response, 422);
      expect(response.body.errors).toEqual([
        expect.objectContaining({ code: 'missing_attribute', detail: 'entity_type is required: person or business', source: { pointer: attributes('entity_type') } }),
      ]);
      // Such a create once got through and left an event the read model could not apply: every later write hung on it.
      await t.create({ entity_type: 'person' }).expect(201);
    });

    it('reports every problem of one body in a single 422', async () => {
      const response = await refusedCreate(() =>
        t.create({
          entity_type: 'person',
          external_id: '',
          status: 'active',
          nickname: 'Jay',
          person: { name: { first: '', last: 7 }, birth_date: '2001-02-30', sex: 'unknown' },
          business: { legal_name: 'Acme Ltd' },
          contact: { email: 'nope', phone: '12345' },
          address: { country_code: 'XX' },
          identity_numbers: [{ number: '123', class: 'SSN' }, { class: 'passport' }],
        }),
      );
      expectJsonApiError(response, 422);
      expect(problems(response)).toEqual(
        expect.arrayContaining([
          ['422', 'invalid_attribute', attributes('external_id')],
          ['422', 'read_only_attribute', attributes('status')],
          ['422', 'unknown_attribute', attributes('nickname')],
          ['422', 'invalid_attribute', attributes('person/name/first')],
          ['422', 'invalid_attribute', attributes('person/name/last')],
          ['422', 'invalid_attribute', attributes('person/birth_date')],
          ['422', 'invalid_attribute', attributes('person/sex')],
          ['422', 'invalid_attribute', attributes('business')],
          ['422', 'invalid_attribute', attributes('contact/email')],
          ['422', 'invalid_attribute', attributes('contact/phone')],
          ['422', 'invalid_attribute', attributes('address/country_code')],
          ['422', 'invalid_attribute', attributes('identity_numbers/0/class')],
          ['422', 'missing_attribute', attributes('identity_numbers/1/number')],
        ]),
      );
      expect(response.body.errors).toHaveLength(13);
    });

    it('lists at most 100 problems, then says how many more there are', async () => {
      const entries = Array.from({ length: 1000 }, () => ({ number: '', class: 'NOT A TOKEN' }));
      const response = await refusedCreate(() => postRaw({ data: { type: 'account', attributes: { entity_type: 'person', identity_numbers: entries } } }));
      expect(response.status).toBe(422);
      expect(response.body.errors).toHaveLength(101);
      expect(response.body.errors[100]).toMatchObject({ code: 'too_many_problems', meta: { not_listed: expect.any(Number) } });
    });
  });

  describe('routes and ids', () => {
    it('answers an unknown route with a JSON:API 404 (a known path with a wrong method: methods-and-media-types)', async () => {
      for (const send of [
        () => t.http().get('/v1/identity/nothing-here').set('X-Api-Key', t.key),
        () => t.http().post(`${ACCOUNTS}/${person}/frobnicate`).set('X-Api-Key', t.key).send({}),
        () => t.http().get('/'),
      ]) {
        const response = await send();
        expectJsonApiError(response, 404);
        expect(problems(response)).toEqual([['404', 'not_found', undefined]]);
      }
    });

    it('answers a malformed id and an unknown id with the same 404, on GET and on PATCH', async () => {
      const unknown = await t.get(UNKNOWN_ID);
      expectJsonApiError(unknown, 404);
      expect(problems(unknown)).toEqual([['404', 'account_not_found', undefined]]);
      // Too short, lower case, too long, and I (not a Crockford base32 letter).
      for (const malformed of ['foo', 'acc_123', UNKNOWN_ID.toLowerCase(), `${UNKNOWN_ID}X`, 'acc_01ARZ3NDEKTSV4RRFFQ69G5FAI']) {
        const response = await t.get(malformed);
        expect(response.status).toBe(404);
        expect(response.body).toEqual(unknown.body);
      }

      // A PATCH of an unknown id creates nothing either.
      const unknownPatch = await refusedCreate(() => t.patch(UNKNOWN_ID, { external_id: 'x' }));
      expect(unknownPatch.status).toBe(404);
      expect(unknownPatch.body).toEqual(unknown.body);
      const malformedPatch = await t.patch('foo', { external_id: 'x' });
      expect(malformedPatch.status).toBe(404);
      expect(malformedPatch.body).toEqual(unknown.body);
    });
  });

  describe('no input ever yields a 500', () => {
    const deep = (levels: number) => JSON.parse('{"a":'.repeat(levels) + '1' + '}'.repeat(levels));
    const oddAttributes: [string, unknown][] = [
      ['attributes: null', null],
      ['attributes: an array', [1, 2, 3]],
      ['every attribute null', { entity_type: 'person', external_id: null, person: null, business: null, contact: null, address: null, identity_numbers: null }],
      ['nested nulls', { entity_type: 'person', person: { name: null, birth_date: null, sex: null }, contact: { email: null, phone: null } }],
      ['entity_type null', { entity_type: null }],
      ['entity_type in capitals', { entity_type: 'PERSON' }],
      ['entity_type an array', { entity_type: ['person'] }],
      ['status null', { entity_type: 'person', status: null }],
      ['empty strings everywhere', { entity_type: '', external_id: '', person: { name: { first: '' }, birth_date: '', sex: '' }, contact: { email: '', phone: '' } }],
      ['identity_numbers of nulls and arrays', { entity_type: 'person', identity_numbers: [null, [], 1, 'x', {}] }],
      ['shareholders of nulls and arrays', { entity_type: 'business', business: { shareholders: [null, [[]], 'x', {}] } }],
      ['a huge percentage', { entity_type: 'business', business: { shareholders: [{ percentage_of_share: 1e308 }] } }],
      ['a tiny negative percentage', { entity_type: 'business', business: { shareholders: [{ percentage_of_share: -5e-324 }] } }],
      ['a huge number of shares', { entity_type: 'business', business: { shareholders: [{ number_of_share: '9'.repeat(400) }] } }],
      ['a long external_id', { entity_type: 'person', external_id: 'x'.repeat(100_000) }],
      ['control characters', { entity_type: 'person', external_id: '\u0000\u0007\u001b', person: { name: { first: '\u0000' } } }],
      ['a lone surrogate', { entity_type: 'person', external_id: 'a\ud800b', person: { name: { first: '\udfff' } } }],
      ['emoji and right-to-left text', { entity_type: 'person', external_id: `odd-${Date.now()}-😀`, person: { name: { first: '😀'.repeat(100), last: 'עִבְרִית' } } }],
      ['odd dates', { entity_type: 'person', person: { birth_date: '+275760-09-13' }, identity_numbers: [{ number: '1', class: 'ssn', created_at: '0000-00-00' }] }],
      ['a birth date as a number', { entity_type: 'person', person: { birth_date: 19900515 } }],
      ['nested 20 levels', { entity_type: 'person', person: { name: deep(20) } }],
      ['nested 40 levels', { entity_type: 'person', person: { name: deep(40) } }],
      ['5000 unknown attributes', Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))],
      ['inherited names', { entity_type: 'person', constructor: { prototype: { polluted: true } }, hasOwnProperty: 1, valueOf: 'x' }],
      ['unicode keys', { entity_type: 'person', ÉNTITY_TYPE: 'person', 'entity_type\u0000': 'business', '': 1 }],
    ];
    const oddDocuments: [string, string][] = [
      ['an empty body', ''],
      ['whitespace', '   '],
      ['a number too big for a double', '{"data":{"type":"account","attributes":{"entity_type":"business","business":{"shareholders":[{"percentage_of_share":1e999999}]}}}}'],
      ['__proto__ keys everywhere', '{"__proto__":{"polluted":true},"data":{"__proto__":{"type":"x"},"type":"account","attributes":{"entity_type":"person","__proto__":{"polluted":true},"person":{"__proto__":null}}}}'],
      ['data.type a number', '{"data":{"type":42}}'],
      ['data.id an object', '{"data":{"type":"account","id":{"$ne":null},"attributes":{"entity_type":"person"}}}'],
      ['trailing garbage', '{"data":{"type":"account","attributes":{"entity_type":"person"}}}garbage'],
      ['duplicate keys', '{"data":{"type":"account","attributes":{"entity_type":"person","entity_type":"business","person":{"name":{"first":"x"}}}}}'],
      ['an escaped lone surrogate', '{"data":{"type":"account","attributes":{"entity_type":"person","external_id":"\\ud800"}}}'],
      ['10 000 nested arrays', `{"data":{"type":"account","attributes":{"entity_type":"person","identity_numbers":${'['.repeat(10_000)}${']'.repeat(10_000)}}}}`],
    ];

    it('answers ~35 odd bodies below 500 on POST and on PATCH, always as JSON:API', async () => {
      const statuses: Record<string, [number, number]> = {};
      const expectJsonApi = (response: Response) => {
        expect(response.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
        expect(response.body.errors ?? response.body.data).toBeDefined();
      };
      for (const [name, attrs] of oddAttributes) {
        const created = await postRaw({ data: { type: 'account', attributes: attrs } });
        const patched = await patchRaw(person, { data: { type: 'account', id: person, attributes: attrs } });
        expectJsonApi(created);
        expectJsonApi(patched);
        statuses[name] = [created.status, patched.status];
      }
      for (const [name, body] of oddDocuments) {
        const created = await postRaw(body);
        const patched = await patchRaw(person, body.replace('"type":"account"', `"type":"account","id":"${person}"`));
        expectJsonApi(created);
        expectJsonApi(patched);
        statuses[name] = [created.status, patched.status];
      }
      const serverErrors = Object.entries(statuses).filter(([, [post, patch]]) => post >= 500 || patch >= 500);
      expect(serverErrors).toEqual([]);
      expect(Object.keys(statuses)).toHaveLength(oddAttributes.length + oddDocuments.length);

      // Nothing leaked into this process's prototypes, and the service still reads and writes.
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await t.get(person).expect(200);
      await t.create({ entity_type: 'person' }).expect(201);
    });

    it('refuses what it cannot store faithfully instead of mangling it', async () => {
      const surrogate = await refusedCreate(() => t.create({ entity_type: 'person', external_id: 'a\ud800b' }));
      expectJsonApiError(surrogate, 422);
      expect(problems(surrogate)).toEqual([['422', 'invalid_attribute', attributes('external_id')]]);

      const nested = await refusedCreate(() => t.create({ entity_type: 'business', business: { shareholders: [[{ name: 'Jane' }]] } }));
      expectJsonApiError(nested, 422);
      expect(problems(nested)).toEqual([['422', 'invalid_attribute', attributes('business/shareholders')]]);

      const emoji = `user-😀-${Date.now()}`;
      const created = await t.create({ entity_type: 'person', external_id: emoji }).expect(201);
      expect((await t.get(created.body.data.id).expect(200)).body.data.attributes.external_id).toBe(emoji);
    });
  });
});
