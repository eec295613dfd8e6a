import type { Response } from 'supertest';
import { loadConfig } from '../../src/config/app-config';
import { ACCOUNTS, appForEachSuite, TestApp } from '../support/app-harness';

// Regressions: each input family that once made the service answer 500, echo unsafe text back, build
// links on a client's Host, or accept a weak ETag. Each answer must be a clear 4xx naming the place
// at fault, and nothing may be written.

const FULL_PERSON = {
  entity_type: 'person',
  external_id: 'hostile-person',
  person: { name: { first: 'Ada', middle: 'B', last: 'Lovelace' }, birth_date: '1990-05-15', sex: 'female' },
  contact: { email: 'ada@example.com', phone: '+14155550100' },
  address: { line1: '1 Main St', line2: 'Flat 2', sublocality: 'Soho', locality: 'London', administrative_area: 'Greater London', postal_code: 'W1', country_code: 'GB' },
  identity_numbers: [{ number: '123-45-6789', class: 'ssn', issuing_country_code: 'US' }],
};
const FULL_BUSINESS = {
  entity_type: 'business',
  business: {
    legal_name: 'Acme Ltd',
    registration_date: '2001-02-03',
    shareholders: [{ name: 'Ada', shareholder_type: 'person', date_of_birth: '1970-01-01', id_type: 'passport', id_number: 'P123', number_of_share: '10', percentage_of_share: 10 }],
  },
};

/** Every text attribute a client can write, as the path below /data/attributes and a way to put a value there. */
const PERSON_TEXT_PATHS = [
  'external_id',
  'person/name/first',
  'person/name/middle',
  'person/name/last',
  'contact/email',
  'contact/phone',
  'address/line1',
  'address/line2',
  'address/sublocality',
  'address/locality',
  'address/administrative_area',
  'address/postal_code',
  'identity_numbers/0/number',
];
const BUSINESS_TEXT_PATHS = [
  'business/legal_name',
  'business/shareholders/0/name',
  'business/shareholders/0/id_type',
  'business/shareholders/0/id_number',
];

/** A deep copy of `attributes` with `value` at `path` (slash-separated, array indexes as numbers). */
function withValueAt(attributes: object, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(attributes) as Record<string, unknown>;
  const keys = path.split('/');
  let node = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
  return copy;
}

const UNSAFE_TEXT: [string, string][] = [
  ['a NUL', 'Ada\u0000'],
  ['a line break', 'Ada\nLovelace'],
  ['a tab', '\tAda'],
  ['DEL', 'Ada\u007f'],
  ['a C1 control', 'Ada\u0085'],
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', 'a\udfff@example.com'],
  ['NUL then a lone surrogate', '\u0000\ud800'],
];

const pointerOf = (path: string) => `/data/attributes/${path}`;

/** A 422 naming the pointer; the only problem, unless `among` says the body has others too. */
function expect422At(response: Response, pointer: string, code = 'invalid_attribute', among = false) {
  expect(response.status).toBe(422);
  expect(response.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
  const expected = expect.objectContaining({ status: '422', code, source: { pointer } });
  if (among) expect(response.body.errors).toContainEqual(expected);
  else expect(response.body.errors).toEqual([expected]);
}

describe('hostile input: the families that once produced a 500 or a wrong answer', () => {
  const t = appForEachSuite();
  let person: string;
  let business: string;

  beforeAll(async () => {
    person = (await t.create(FULL_PERSON).expect(201)).body.data.id;
    business = (await t.create(FULL_BUSINESS).expect(201)).body.data.id;
  });

  const count = async () => (await t.http().get(`${ACCOUNTS}?page[size]=100`).set('X-Api-Key', t.key).expect(200)).body.data.length as number;

  /** Sends a write that must be refused: afterwards the account count and both accounts read exactly as before. */
  async function refused(send: () => PromiseLike<Response>): Promise<Response> {
    const before = { count: await count(), person: await t.get(person), business: await t.get(business) };
    const response = await send();
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await count()).toBe(before.count);
    for (const [id, was] of [[person, before.person], [business, before.business]] as const) {
      const now = await t.get(id).expect(200);
      expect(now.headers.etag).toBe(was.headers.etag);
      expect(now.body).toEqual(was.body);
    }
    return response;
  }

  describe('keys named like members of Object.prototype', () => {
    const VALUES: [string, unknown][] = [
      ['{"constructor":1}', { constructor: 1 }],
      ['{"constructor":"x"}', { constructor: 'x' }],
      ['{"constructor":{"prototype":{}}}', { constructor: { prototype: {} } }],
    ];
    // Where an object is allowed: each position gets the bad key.
    const OBJECT_POSITIONS = ['', 'person', 'person/name', 'contact', 'address', 'identity_numbers/0'];

    it.each(VALUES)('answers %s at every object position of a create and a PATCH with 422 unknown_attribute there', async (_, bad) => {
      for (const position of OBJECT_POSITIONS) {
        const key = Object.keys(bad as object)[0];
        const attributes = position === '' ? { ...FULL_PERSON, ...(bad as object) } : withValueAt(FULL_PERSON, position, { ...(readAt(FULL_PERSON, position) as object), ...(bad as object) });
        const pointer = pointerOf(position ? `${position}/${key}` : key);
        expect422At(await refused(() => t.create({ ...attributes, external_id: null })), pointer, 'unknown_attribute');
        const { entity_type: _e, ...patchable } = attributes;
        expect422At(await refused(() => t.patch(person, patchable)), pointer, 'unknown_attribute');
      }
    });

    // Where a string belongs (the positions that made class-transformer throw): the wrong type is named there.
    const TEXT_POSITIONS = ['external_id', 'person/name/first', 'person/birth_date', 'person/sex', 'contact/email', 'address/line1', 'identity_numbers/0/number'];

    it.each([...VALUES, ['[{"constructor":{}}]', [{ constructor: {} }]]])('answers %s where a string belongs with 422 naming that attribute, on create and PATCH', async (_, bad) => {
      for (const position of TEXT_POSITIONS) {
        const attributes = withValueAt({ ...FULL_PERSON, external_id: null }, position, bad);
        expect422At(await refused(() => t.create(attributes)), pointerOf(position), 'invalid_attribute', true);
        const { entity_type: _e, ...patchable } = withValueAt(FULL_PERSON, position, bad);
        expect422At(await refused(() => t.patch(person, patchable)), pointerOf(position), 'invalid_attribute', true);
      }
    });

    it('answers [{"constructor":{}}] as identity_numbers and as shareholders with 422 at the entry', async () => {
      // An identity number needs number and class, so those are named too.
      expect422At(await refused(() => t.create({ entity_type: 'person', identity_numbers: [{ constructor: {} }] })), pointerOf('identity_numbers/0/constructor'), 'unknown_attribute', true);
      expect422At(await refused(() => t.patch(person, { identity_numbers: [{ constructor: {} }] })), pointerOf('identity_numbers/0/constructor'), 'unknown_attribute', true);
      expect422At(
        await refused(() => t.patch(business, { business: { shareholders: [{ constructor: {} }] } })),
        pointerOf('business/shareholders/0/constructor'),
        'unknown_attribute',
      );
    });

    it('answers __proto__, toString and hasOwnProperty keys the same way, sent as raw JSON', async () => {
      for (const key of ['__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
        const body = `{"data":{"type":"account","attributes":{"entity_type":"person","person":{"${key}":{"polluted":true}}}}}`;
        const response = await refused(() => t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Content-Type', 'application/json').send(body));
        expect422At(response, pointerOf(`person/${key}`), 'unknown_attribute');
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers a constructor key in a status change with 422', async () => {
      const response = await refused(() =>
        t.http().post(`${ACCOUNTS}/${person}/status`).set('X-Api-Key', t.key).send({ data: { type: 'account-status-change', attributes: { status: 'active', constructor: { prototype: {} } } } }),
      );
      expect422At(response, pointerOf('constructor'), 'unknown_attribute');
    });
  });

  describe('control characters and lone surrogates in text', () => {
    it.each(UNSAFE_TEXT)('refuses %s in every text attribute of a create and a PATCH, with 422 naming the field', async (_, text) => {
      for (const [base, target, paths] of [[FULL_PERSON, person, PERSON_TEXT_PATHS], [FULL_BUSINESS, business, BUSINESS_TEXT_PATHS]] as const) {
        for (const path of paths) {
          const attributes = withValueAt({ ...base, external_id: null }, path, text);
          const created = await refused(() => t.create(attributes));
          expect422At(created, pointerOf(path));
          expect(created.body.errors[0].detail).toContain(path.replace(/\//g, '.'));
          const { entity_type: _e, ...patchable } = withValueAt(base, path, text);
          expect422At(await refused(() => t.patch(target, patchable)), pointerOf(path));
        }
      }
    });

    it.each(UNSAFE_TEXT)('refuses %s in a status change reason with 422 at reason', async (_, text) => {
      const response = await refused(() =>
        t.http().post(`${ACCOUNTS}/${person}/status`).set('X-Api-Key', t.key).send({ data: { type: 'account-status-change', attributes: { status: 'active', reason: text } } }),
      );
      expect422At(response, pointerOf('reason'));
    });

    it('never answers a lone surrogate in contact.email with a 500 (the email validator once threw)', async () => {
      for (const email of ['\ud800', 'a\udfff@example.com', '\udbff\udbff@example.com']) {
        expect422At(await refused(() => t.create({ entity_type: 'person', contact: { email } })), pointerOf('contact/email'));
      }
    });

    it('still accepts text outside the Basic Multilingual Plane and accents (whole surrogate pairs are fine)', async () => {
      const name = 'Zoë 🦋 Ōtsuka';
      const created = await t.create({ entity_type: 'person', person: { name: { first: name } } }).expect(201);
      expect(created.body.data.attributes.person.name.first).toBe(name);
    });
  });

  describe('member names that need escaping in a JSON Pointer (RFC 6901)', () => {
    it('points at a member named "", "a/b" or "~" exactly, escaping / as ~1 and ~ as ~0', async () => {
      const body = '{"data":{"type":"account","attributes":{"entity_type":"person","":0,"a/b":1,"person":{"~":2}}}}';
      const response = await refused(() => t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Content-Type', 'application/json').send(body));
      expect(response.status).toBe(422);
      expect(response.body.errors.map((e: { source: { pointer: string } }) => e.source.pointer).sort()).toEqual(
        ['/data/attributes/', '/data/attributes/a~1b', '/data/attributes/person/~0'].sort(),
      );
    });
  });

  describe('ids in paths', () => {
    it('answers a malformed id with 404 on every write route, with or without Idempotency-Key (the check once hid behind ?.)', async () => {
      for (const path of [`${ACCOUNTS}/%00/status`, `${ACCOUNTS}/%00/redact`, `${ACCOUNTS}/acc_%00/status`]) {
        const body = { data: { type: 'account-status-change', attributes: { status: 'suspended' } } };
        expect((await refused(() => t.http().post(path).set('X-Api-Key', t.key).send(body))).status).toBe(404);
        expect((await refused(() => t.http().post(path).set('X-Api-Key', t.key).set('Idempotency-Key', `malformed-id-${Math.random()}`).send(body))).status).toBe(404);
      }
    });
  });

  describe('the list endpoint', () => {
    it('lists each problem once, however often a parameter is repeated (JSON:API error objects are unique)', async () => {
      const response = await t.http().get(`${ACCOUNTS}?page[size]=1&page[size]=2&page[size]=3&page[size]=4&bogus=1&bogus=2&bogus=3`).set('X-Api-Key', t.key).expect(400);
      const errors = response.body.errors as unknown[];
      expect(new Set(errors.map((e) => JSON.stringify(e))).size).toBe(errors.length);
      expect(errors.map((e) => (e as { source: { parameter: string } }).source.parameter).sort()).toEqual(['bogus', 'bogus', 'page[size]'].sort());
    });
  });

  describe('links without PUBLIC_BASE_URL: the request Host only when it is a valid host', () => {
    it('uses a valid Host as it is, and localhost for one that is not a host', async () => {
      const listed = await t.http().get(`${ACCOUNTS}?page[size]=1`).set('X-Api-Key', t.key).set('Host', 'api.example.com:8443').expect(200);
      expect(listed.body.links.next).toMatch(/^http:\/\/api\.example\.com:8443\/v1\/identity\/accounts\?/);
      for (const host of ['evil.example/../phish', 'a b', 'evil.example:99999', 'evil.example@other', '"><script>']) {
        const response = await t.http().get(`${ACCOUNTS}?page[size]=1`).set('X-Api-Key', t.key).set('Host', host).expect(200);
        expect(response.body.links.next).toMatch(/^http:\/\/localhost\/v1\/identity\/accounts\?/);
      }
    });
  });

  describe('If-Match compares strongly (RFC 9110)', () => {
    const patchWith = (ifMatch: string, email: string) =>
      t.http().patch(`${ACCOUNTS}/${person}`).set('X-Api-Key', t.key).set('If-Match', ifMatch).send({ data: { type: 'account', id: person, attributes: { contact: { email } } } });

    it('refuses a weak tag of the current revision, or a tag this API never issued, with 412 and changes nothing', async () => {
      const current = (await t.get(person).expect(200)).headers.etag as string;
      for (const tag of [`W/${current}`, '"abc"', `W/${current}, W/"999"`]) {
        const response = await refused(() => patchWith(tag, 'weak@example.com'));
        expect(response.status).toBe(412);
        expect(response.body.errors).toEqual([expect.objectContaining({ code: 'precondition_failed', source: { header: 'If-Match' } })]);
      }
    });

    it('accepts the current strong tag, also in a list beside weak ones, and *', async () => {
      const current = (await t.get(person).expect(200)).headers.etag as string;
      const next = (await patchWith(`W/"0", ${current}`, 'strong@example.com').expect(200)).headers.etag as string;
      await patchWith('*', 'star@example.com').expect(200);
      expect(next).not.toBe(current);
    });

    it('answers a header that is not a list of entity tags, or names two revisions, with 400', async () => {
      for (const tag of ['3', '"1" "2"', '"1", "2"', '']) {
        const response = await refused(() => patchWith(tag, 'bad@example.com'));
        expect(response.status).toBe(400);
        expect(response.body.errors[0].source).toEqual({ header: 'If-Match' });
      }
    });
  });
});

describe('links with PUBLIC_BASE_URL', () => {
  const t: TestApp = appForEachSuite({ env: { PUBLIC_BASE_URL: 'https://kyc.example.com/api/' } });

  it('builds Location and list links on it, whatever Host the client sends', async () => {
    const created = await t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Host', 'evil.example').send({ data: { type: 'account', attributes: { entity_type: 'person' } } }).expect(201);
    expect(created.headers.location).toBe(`https://kyc.example.com/api${ACCOUNTS}/${created.body.data.id}`);
    await t.create({ entity_type: 'business' }).expect(201);
    const listed = await t.http().get(`${ACCOUNTS}?page[size]=1`).set('X-Api-Key', t.key).set('Host', 'evil.example').expect(200);
    expect(listed.body.links.next).toMatch(/^https:\/\/kyc\.example\.com\/api\/v1\/identity\/accounts\?/);
  });

  it('refuses a PUBLIC_BASE_URL that is not an absolute http(s) URL, at start-up', () => {
    for (const value of ['kyc.example.com', 'ftp://kyc.example.com', 'https://kyc.example.com/?a=1', 'https://user:pw@kyc.example.com']) {
      expect(() => loadConfig({ PUBLIC_BASE_URL: value })).toThrow(/PUBLIC_BASE_URL must be an absolute http\(s\) URL/);
    }
  });
});

function readAt(value: unknown, path: string): unknown {
  return path.split('/').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], value);
}
