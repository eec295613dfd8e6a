import { ACCOUNTS, appForEachSuite, GUIDE_CREATE_BODY, uniqueGuideAttributes } from '../support/app-harness';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('Accounts API: create, read, update (the guide\'s examples)', () => {
  const t = appForEachSuite();

  it('answers the guide\'s create example, sent verbatim, with the guide\'s response shape', async () => {
    const response = await t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Content-Type', 'application/json').send(GUIDE_CREATE_BODY).expect(201);
    const { data } = response.body;
    expect(data.id).toMatch(/^acc_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(response.headers.location).toMatch(new RegExp(`${ACCOUNTS}/${data.id}$`));
    expect(response.headers.etag).toBe('"0"');
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(data).toEqual({
      type: 'account',
      id: data.id,
      attributes: {
        status: 'pending',
        external_id: 'user-12345',
        entity_type: 'person',
        person: { name: { first: 'Jane', middle: null, last: 'Doe' }, birth_date: '1990-05-15', sex: null },
        business: null,
        contact: { email: 'jane@example.com', phone: '+1234567890' },
        address: null,
        identity_numbers: [],
        created_at: expect.stringMatching(RFC3339_UTC),
        updated_at: null,
        redacted_at: null,
      },
      relationships: { sessions: { data: [] }, documents: { data: [] } },
    });
    // Same keys in the same order as the guide's response.
    expect(Object.keys(data.attributes)).toEqual([
      'status', 'external_id', 'entity_type', 'person', 'business', 'contact', 'address', 'identity_numbers', 'created_at', 'updated_at', 'redacted_at',
    ]);

    const read = await t.get(data.id).expect(200);
    expect(read.body).toEqual(response.body);
    expect(read.headers.etag).toBe('"0"');
  });

  it('creates from the external_id-only example', async () => {
    const created = await t.create({ external_id: 'usr_abc123', entity_type: 'person' }).expect(201);
    expect(created.body.data.attributes).toMatchObject({
      status: 'pending', external_id: 'usr_abc123', entity_type: 'person', person: null, business: null, contact: null, address: null, identity_numbers: [],
    });
    expect((await t.get(created.body.data.id).expect(200)).body).toEqual(created.body);
  });

  it('applies the guide\'s PATCH example: the email changes, the phone stays', async () => {
    const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    const patched = await t.patch(id, { contact: { email: 'new-email@example.com' } }).expect(200);
    expect(patched.body.data.attributes.contact).toEqual({ email: 'new-email@example.com', phone: '+1234567890' });
    expect(patched.body.data.attributes.updated_at).toMatch(RFC3339_UTC);
    expect(patched.body.data.attributes.person).toEqual({ name: { first: 'Jane', middle: null, last: 'Doe' }, birth_date: '1990-05-15', sex: null });
    expect(patched.headers.etag).toBe('"1"');

    const read = await t.get(id).expect(200);
    expect(read.body).toEqual(patched.body);
    expect(read.headers.etag).toBe('"1"');
  });

  it('merges nested objects (RFC 7396): absent keys kept, null clears, identity_numbers replaced whole', async () => {
    const { id } = (
      await t.create({
        entity_type: 'person',
        person: { name: { first: 'Ada', last: 'Lovelace' }, sex: 'female' },
        address: { line1: '1 Main St', locality: 'London', country_code: 'GB' },
        identity_numbers: [{ number: '123-45-6789', class: 'ssn', issuing_country_code: 'US' }, { number: 'P123', class: 'passport' }],
      })
    ).body.data;
    const patched = await t.patch(id, {
      person: { name: { middle: 'King' }, sex: null },
      address: null,
      identity_numbers: [{ number: '987-65-4321', class: 'ssn', issuing_country_code: 'US' }],
    }).expect(200);
    const a = patched.body.data.attributes;
    expect(a.person).toEqual({ name: { first: 'Ada', middle: 'King', last: 'Lovelace' }, birth_date: null, sex: null });
    expect(a.address).toBeNull();
    expect(a.identity_numbers).toEqual([
      { number: '987-65-4321', issuing_country_code: 'US', class: 'ssn', created_at: expect.stringMatching(RFC3339_UTC), updated_at: expect.stringMatching(RFC3339_UTC) },
    ]);
    expect((await t.get(id).expect(200)).body).toEqual(patched.body);
  });

  it('records no event for a PATCH that changes nothing: 200, same ETag, updated_at untouched', async () => {
    const created = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    const same = await t.patch(created.id, { contact: { email: 'jane@example.com' }, entity_type: 'person' }).expect(200);
    expect(same.headers.etag).toBe('"0"');
    expect(same.body.data.attributes.updated_at).toBeNull();
    const empty = await t.patch(created.id, {}).expect(200);
    expect(empty.headers.etag).toBe('"0"');
  });

  it('creates a business account with shareholders', async () => {
    const shareholder = {
      name: 'Jane Doe', shareholder_type: 'person', date_of_birth: '1980-01-02', id_type: 'passport', id_number: 'X123', number_of_share: '500', percentage_of_share: 50,
    };
    const created = await t.create({ entity_type: 'business', business: { legal_name: 'Acme Ltd', shareholders: [shareholder] } }).expect(201);
    expect(created.body.data.attributes.business).toEqual({ legal_name: 'Acme Ltd', registration_date: null, shareholders: [shareholder] });
    expect(created.body.data.attributes.person).toBeNull();
  });

  it('honours If-Match: the current ETag passes, a stale one answers 412', async () => {
    const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    const body = (email: string) => ({ data: { type: 'account', id, attributes: { contact: { email } } } });
    await t.http().patch(`${ACCOUNTS}/${id}`).set('X-Api-Key', t.key).set('If-Match', '"0"').send(body('a@example.com')).expect(200);
    const stale = await t.http().patch(`${ACCOUNTS}/${id}`).set('X-Api-Key', t.key).set('If-Match', '"0"').send(body('b@example.com')).expect(412);
    expect(stale.body.errors[0]).toMatchObject({ status: '412', code: 'stale_revision' });
    expect((await t.get(id)).body.data.attributes.contact.email).toBe('a@example.com');
  });

  it('records every one of 10 concurrent PATCHes of one account without If-Match (interleaved races: test/integration)', async () => {
    const { id } = (await t.create({ entity_type: 'person' }).expect(201)).body.data;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.patch(id, { identity_numbers: [{ number: `N${i}`, class: `c${i}` }] })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    const read = await t.get(id).expect(200);
    expect(read.headers.etag).toBe('"10"');
  });
});
