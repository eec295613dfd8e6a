import { ApiKeys } from '../../src/auth/api-keys';
import { ACCOUNTS, appForEachSuite, TestApp, uniqueGuideAttributes } from '../support/app-harness';
import { freshFolds } from '../support/fresh-folds';

jest.setTimeout(60_000);

const S1 = 'sess_01HQ3Z8N5V2YB7K4M9TXJ6CW01';
const S2 = 'sess_01HQ3Z8N5V2YB7K4M9TXJ6CW02';
const S3 = 'sess_01HQ3Z8N5V2YB7K4M9TXJ6CW03';
const D1 = 'doc_01HQ3Z8N5V2YB7K4M9TXJ6CW0D';
const UUID = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
const sessions = (...ids: string[]) => ({ data: ids.map((id) => ({ type: 'session', id })) });
const documents = (...ids: string[]) => ({ data: ids.map((id) => ({ type: 'document', id })) });

const path = (id: string, relationship: 'sessions' | 'documents') => `${ACCOUNTS}/${id}/relationships/${relationship}`;
const link = (t: TestApp, id: string, relationship: 'sessions' | 'documents', body: unknown, key = t.key) =>
  t.http().post(path(id, relationship)).set('X-Api-Key', key).send(body as object);
const unlink = (t: TestApp, id: string, relationship: 'sessions' | 'documents', body: unknown, key = t.key) =>
  t.http().delete(path(id, relationship)).set('X-Api-Key', key).send(body as object);
const linkage = (t: TestApp, id: string, relationship: 'sessions' | 'documents') => t.http().get(path(id, relationship)).set('X-Api-Key', t.key);
const lookup = (t: TestApp, query: string) => t.http().get(`${ACCOUNTS}?${query}`).set('X-Api-Key', t.key).expect(200);
const idsOf = (response: { body: { data: { id: string }[] } }) => response.body.data.map((d) => d.id);

describe('Relationships: sessions and documents of an account', () => {
  const t = appForEachSuite();
  const created = async () => (await t.create(uniqueGuideAttributes()).expect(201)).body.data.id as string;

  it('links, answers the whole linkage with the account\'s ETag, and shows it in the account, newest last', async () => {
    const id = await created();
    const first = await link(t, id, 'sessions', sessions(S2, S1)).expect(200);
    expect(first.body).toEqual({ data: [{ type: 'session', id: S2 }, { type: 'session', id: S1 }], links: { self: expect.stringMatching(new RegExp(`${path(id, 'sessions')}$`)) } });
    expect(first.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(first.headers.etag).toBe('"2"');
    await link(t, id, 'documents', documents(D1, UUID.toUpperCase())).expect(200);
    await link(t, id, 'sessions', sessions(S3)).expect(200);

    const account = await t.get(id).expect(200);
    expect(account.headers.etag).toBe('"5"');
    expect(account.body.data.relationships).toEqual({
      sessions: { data: [S2, S1, S3].map((s) => ({ type: 'session', id: s })) },
      documents: { data: [{ type: 'document', id: D1 }, { type: 'document', id: UUID }] },
    });
    expect(account.body.data.attributes.updated_at).toEqual(expect.stringMatching(/Z$/));
    const read = await linkage(t, id, 'documents').expect(200);
    expect(read.body.data).toEqual(account.body.data.relationships.documents.data);
    expect(read.headers.etag).toBe('"5"');
    // The read model is a fold of the stream, relationships included.
    expect((await freshFolds(t.dataDir, [id])).get(id)!.body).toEqual(account.body);
  });

  it('is idempotent: linking a linked id, or unlinking an absent one, records nothing and answers 200', async () => {
    const id = await created();
    await link(t, id, 'sessions', sessions(S1)).expect(200);
    const again = await link(t, id, 'sessions', sessions(S1, S1)).expect(200);
    expect(again.headers.etag).toBe('"1"');
    expect(again.body.data).toEqual([{ type: 'session', id: S1 }]);
    const absent = await unlink(t, id, 'sessions', sessions(S2)).expect(200);
    expect(absent.headers.etag).toBe('"1"');
    const removed = await unlink(t, id, 'sessions', sessions(S1, S2)).expect(200);
    expect(removed.body.data).toEqual([]);
    expect(removed.headers.etag).toBe('"2"');
    expect((await link(t, id, 'sessions', sessions()).expect(200)).headers.etag).toBe('"2"');
  });

  it('records each link and unlink in the audit trail, with who and which request', async () => {
    const id = await created();
    await link(t, id, 'sessions', sessions(S1, S2)).set('X-Request-Id', 'link-request-1').expect(200);
    await unlink(t, id, 'sessions', sessions(S1)).expect(200);
    await link(t, id, 'documents', documents(D1)).expect(200);
    await unlink(t, id, 'documents', documents(D1)).expect(200);
    const trail = await t.http().get(`${ACCOUNTS}/${id}/events`).set('X-Api-Key', t.key).expect(200);
    const events = trail.body.data.map((e: { attributes: { event_type: string; changes: unknown; request_id: string } }) => [e.attributes.event_type, e.attributes.changes]);
    expect(events.slice(1)).toEqual([
      ['account.session_linked', { session_id: S1, linked_at: expect.any(String) }],
      ['account.session_linked', { session_id: S2, linked_at: expect.any(String) }],
      ['account.session_unlinked', { session_id: S1, unlinked_at: expect.any(String) }],
      ['account.document_linked', { document_id: D1, linked_at: expect.any(String) }],
      ['account.document_unlinked', { document_id: D1, unlinked_at: expect.any(String) }],
    ]);
    expect(trail.body.data[1].attributes.request_id).toBe('link-request-1');
    const filtered = await t.http().get(`${ACCOUNTS}/${id}/events?filter[event_type]=account.session_unlinked`).set('X-Api-Key', t.key).expect(200);
    expect(filtered.body.data).toHaveLength(1);
  });

  it('finds the account a session or a document belongs to with filter[session] and filter[document]', async () => {
    const [a, b] = [await created(), await created()];
    const s = 'sess_01HQ3Z8N5V2YB7K4M9TXJ6CWAA';
    const d = 'doc_01HQ3Z8N5V2YB7K4M9TXJ6CWAA';
    await link(t, a, 'sessions', sessions(s)).expect(200);
    await link(t, b, 'documents', documents(d, UUID)).expect(200);
    expect(idsOf(await lookup(t, `filter[session]=${s}`))).toEqual([a]);
    expect(idsOf(await lookup(t, `filter[document]=${d}`))).toEqual([b]);
    // A UUID is found however its letters are cased.
    expect(idsOf(await lookup(t, `filter[document]=${UUID.toUpperCase()}`))).toContain(b);
    expect(idsOf(await lookup(t, `filter[session]=${s}&filter[status]=pending`))).toEqual([a]);
    expect(idsOf(await lookup(t, `filter[session]=${s}&filter[document]=${d}`))).toEqual([]);
    await unlink(t, a, 'sessions', sessions(s)).expect(200);
    expect(idsOf(await lookup(t, `filter[session]=${s}`))).toEqual([]);

    const bad = await t.http().get(`${ACCOUNTS}?filter[session]=${d}&filter[document]=x`).set('X-Api-Key', t.key).expect(400);
    expect(bad.body.errors.map((e: { source: { parameter: string } }) => e.source.parameter)).toEqual(['filter[session]', 'filter[document]']);
    // Another tenant's key finds nothing of this tenant's links.
    const other = (await t.app.get(ApiKeys).create('other-org', 'staging', ['accounts:read'])).key;
    expect((await t.http().get(`${ACCOUNTS}?filter[document]=${d}`).set('X-Api-Key', other).expect(200)).body.data).toEqual([]);
  });

  it('validates the linkage document: its shape, the member type, every malformed id at once', async () => {
    const id = await created();
    const noArray = await link(t, id, 'sessions', { data: { type: 'session', id: S1 } }).expect(400);
    expect(noArray.body.errors[0]).toMatchObject({ code: 'invalid_document', source: { pointer: '/data' } });
    await link(t, id, 'sessions', { data: [{ id: S1 }] }).expect(400);
    await link(t, id, 'sessions', { data: [{ type: 'session' }] }).expect(400);
    await link(t, id, 'sessions', { data: ['sess_x'] }).expect(400);
    await unlink(t, id, 'sessions', undefined).expect(400);
    const wrongType = await link(t, id, 'sessions', documents(D1)).expect(409);
    expect(wrongType.body.errors[0]).toMatchObject({ code: 'type_mismatch', source: { pointer: '/data/0/type' } });
    const badIds = await link(t, id, 'documents', documents(D1, S1, 'doc_123', `${UUID}-0`)).expect(422);
    expect(badIds.body.errors.map((e: { code: string; source: { pointer: string } }) => [e.code, e.source.pointer])).toEqual([
      ['invalid_related_id', '/data/1/id'],
      ['invalid_related_id', '/data/2/id'],
      ['invalid_related_id', '/data/3/id'],
    ]);
    expect(badIds.body.errors[0].detail).toContain('doc_');
    expect((await t.get(id)).headers.etag).toBe('"0"');
  });

  it('links at most 100 of each: beyond, 422 and nothing is recorded', async () => {
    const id = await created();
    const many = (from: number, count: number) => Array.from({ length: count }, (_, n) => `sess_01HQ3Z8N5V2YB7K4M9TX${String(from + n).padStart(6, '0')}`);
    await link(t, id, 'sessions', sessions(...many(0, 60))).expect(200);
    const over = await link(t, id, 'sessions', sessions(...many(60, 41))).expect(422);
    expect(over.body.errors[0]).toMatchObject({ code: 'relationship_limit_exceeded', meta: { relationship: 'sessions', limit: 100, linked: 60, adding: 41 } });
    const full = await link(t, id, 'sessions', sessions(...many(50, 50))).expect(200);
    expect(full.body.data).toHaveLength(100);
    await link(t, id, 'documents', documents(D1)).expect(200);
    await link(t, id, 'sessions', sessions(...many(100, 1))).expect(422);
  });

  it('freezes a redacted account: linking and unlinking answer 409 account_redacted; the links stay', async () => {
    const id = await created();
    await link(t, id, 'sessions', sessions(S1)).expect(200);
    await t.http().post(`${ACCOUNTS}/${id}/redact`).set('X-Api-Key', t.key).expect(200);
    for (const response of [await link(t, id, 'sessions', sessions(S2)), await unlink(t, id, 'sessions', sessions(S1)), await link(t, id, 'documents', documents(D1))]) {
      expect(response.status).toBe(409);
      expect(response.body.errors[0].code).toBe('account_redacted');
    }
    expect((await linkage(t, id, 'sessions').expect(200)).body.data).toEqual([{ type: 'session', id: S1 }]);
  });

  it('takes If-Match like the other writes, and answers 404 for what is not this tenant\'s account', async () => {
    const id = await created();
    const stale = await link(t, id, 'sessions', sessions(S1)).set('If-Match', '"7"').expect(412);
    expect(stale.body.errors[0]).toMatchObject({ code: 'stale_revision', meta: { current_revision: '0' } });
    await link(t, id, 'sessions', sessions(S1)).set('If-Match', '"0"').expect(200);
    await unlink(t, id, 'sessions', sessions(S1)).set('If-Match', '"0"').expect(412);
    await linkage(t, 'acc_01HQ00000000000000000000ZZ', 'sessions').expect(404);
    await link(t, 'acc_01HQ00000000000000000000ZZ', 'sessions', sessions(S1)).expect(404);
    await link(t, 'not-an-id', 'documents', documents(D1)).expect(404);
    const other = (await t.app.get(ApiKeys).create('default', 'production', ['accounts:read', 'accounts:write'])).key;
    await linkage(t, id, 'sessions').set('X-Api-Key', other).expect(404);
    await link(t, id, 'sessions', sessions(S2), other).expect(404);
  });

  it('answers 405 for the methods a relationship does not have, and needs the scopes of reads and writes', async () => {
    const id = await created();
    const patch = await t.http().patch(path(id, 'sessions')).set('X-Api-Key', t.key).send(sessions(S1)).expect(405);
    expect(patch.headers.allow).toBe('DELETE, GET, HEAD, POST');
    const readOnly = await t.app.get(ApiKeys).create('default', 'staging', ['accounts:read']);
    await linkage(t, id, 'sessions').set('X-Api-Key', readOnly.key).expect(200);
    expect((await link(t, id, 'sessions', sessions(S1), readOnly.key).expect(403)).body.errors[0].meta).toEqual({ required_scope: 'accounts:write' });
  });
});
