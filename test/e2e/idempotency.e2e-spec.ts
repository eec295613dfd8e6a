import { randomUUID } from 'node:crypto';
import { ApiKeys } from '../../src/auth/api-keys';
import { IdempotentRequests } from '../../src/idempotency/idempotent-requests';
import { Clock } from '../../src/kernel/clock';
import { ACCOUNTS, appForEachSuite, removeDir, startApp, TestApp } from '../support/app-harness';
import { freshFolds } from '../support/fresh-folds';

jest.setTimeout(60_000);

// No external_id: were a retry to run the create again, nothing would stop a second account.
const PERSON = {
  entity_type: 'person',
  person: { name: { first: 'Imogen', last: 'Halloway' }, birth_date: '1984-03-09' },
  contact: { email: 'imogen@example.com' },
};
const createDocument = (attributes: object = PERSON) => ({ data: { type: 'account', attributes } });
const post = (t: TestApp, path: string, key: string | null, body: object | undefined, apiKey = t.key) => {
  const request = t.http().post(path).set('X-Api-Key', apiKey);
  if (key !== null) request.set('Idempotency-Key', key);
  return body === undefined ? request : request.send(body);
};
const create = (t: TestApp, key: string | null, attributes: object = PERSON, apiKey = t.key) => post(t, ACCOUNTS, key, createDocument(attributes), apiKey);
const accountCount = async (t: TestApp) => (await t.http().get(`${ACCOUNTS}?page[size]=100`).set('X-Api-Key', t.key).expect(200)).body.data.length as number;

describe('Idempotency-Key: one request, one effect, however often it is sent', () => {
  it('makes exactly one account of 20 concurrent creates with one key; every answer is that 201 or 409 in flight; a replay after a restart replays', async () => {
    const apps: TestApp[] = [await startApp()];
    const [t] = apps;
    try {
      const key = randomUUID();
      const answers = await Promise.all(Array.from({ length: 20 }, () => create(t, key)));
      const created = answers.filter((a) => a.status === 201);
      expect(created.length).toBeGreaterThan(0);
      for (const answer of answers.filter((a) => a.status !== 201)) {
        expect(answer.status).toBe(409);
        expect(answer.body.errors).toEqual([expect.objectContaining({ code: 'idempotency_key_in_flight', source: { header: 'Idempotency-Key' } })]);
        expect(answer.headers['retry-after']).toBe('1');
      }
      const first = created[0];
      for (const answer of created) {
        expect(answer.body).toEqual(first.body);
        expect([answer.headers.location, answer.headers.etag]).toEqual([first.headers.location, '"0"']);
      }
      // One of them did the work; the others (if any got that far) were replays.
      expect(created.filter((a) => a.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      expect(await accountCount(t)).toBe(1);
      expect((await freshFolds(t.dataDir)).size).toBe(1);

      const again = await create(t, key).expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      await apps.pop()!.close();

      const restarted = await startApp({ dataDir: t.dataDir, key: t.key });
      apps.push(restarted);
      const replay = await create(restarted, key).expect(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect([replay.headers.location, replay.headers.etag]).toEqual([first.headers.location, '"0"']);
      expect(await accountCount(restarted)).toBe(1);
    } finally {
      for (const app of apps) await app.close();
      removeDir(t.dataDir);
    }
  });

  describe('keys, tenants and what is kept', () => {
    const t = appForEachSuite();

    it('refuses the key with another body or another path: 422 idempotency_key_reused, nothing done', async () => {
      const key = randomUUID();
      const first = await create(t, key).expect(201);
      const other = await create(t, key, { ...PERSON, contact: { email: 'someone.else@example.com' } }).expect(422);
      expect(other.body.errors).toEqual([expect.objectContaining({ code: 'idempotency_key_reused', source: { header: 'Idempotency-Key' } })]);
      const id = first.body.data.id;
      await post(t, `${ACCOUNTS}/${id}/status`, key, { data: { type: 'account-status-change', attributes: { status: 'active' } } }).expect(422);
      expect((await t.get(id).expect(200)).headers.etag).toBe('"0"');
      // The same document with its members in another order is the same request.
      const reordered = { contact: PERSON.contact, person: { birth_date: '1984-03-09', name: { last: 'Halloway', first: 'Imogen' } }, entity_type: 'person' };
      expect((await create(t, key, reordered).expect(201)).body).toEqual(first.body);
    });

    it('keeps keys per tenant: another tenant\'s request with the same key is its own', async () => {
      const key = randomUUID();
      const mine = await create(t, key).expect(201);
      const acme = (await t.app.get(ApiKeys).create('acme', 'staging', ['accounts:read', 'accounts:write'])).key;
      const theirs = await create(t, key, PERSON, acme).expect(201);
      expect(theirs.headers['idempotent-replayed']).toBeUndefined();
      expect(theirs.body.data.id).not.toBe(mine.body.data.id);
      const production = (await t.app.get(ApiKeys).create('default', 'production', ['accounts:write'])).key;
      expect((await create(t, key, { entity_type: 'business' }, production).expect(201)).headers['idempotent-replayed']).toBeUndefined();
    });

    it('keeps no 401 or 403: the same key then works with a valid key that has the scope', async () => {
      const key = randomUUID();
      await create(t, key, PERSON, 'sk_staging_' + 'f'.repeat(64)).expect(401);
      await t.http().post(ACCOUNTS).set('Idempotency-Key', key).send(createDocument()).expect(401);
      const readOnly = (await t.app.get(ApiKeys).create('default', 'staging', ['accounts:read'])).key;
      await create(t, key, PERSON, readOnly).expect(403);
      const created = await create(t, key).expect(201);
      expect(created.headers['idempotent-replayed']).toBeUndefined();
    });

    it('replays an error answer as it was', async () => {
      const key = randomUUID();
      const invalid = { entity_type: 'person', person: { birth_date: '1984-02-30' } };
      const first = await create(t, key, invalid).expect(422);
      const replay = await create(t, key, invalid).expect(422);
      expect(replay.body).toEqual(first.body);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.headers.etag).toBeUndefined();
    });

    it('replays a status change (and a link) as first answered, even after later changes; nothing is recorded twice', async () => {
      const { id } = (await create(t, null).expect(201)).body.data;
      const key = randomUUID();
      const change = { data: { type: 'account-status-change', attributes: { status: 'suspended', reason: 'chargeback review' } } };
      const first = await post(t, `${ACCOUNTS}/${id}/status`, key, change).expect(200);
      expect(first.headers.etag).toBe('"1"');
      await t.patch(id, { contact: { phone: '+14155550100' } }).expect(200);
      const replay = await post(t, `${ACCOUNTS}/${id}/status`, key, change).expect(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect(replay.headers.etag).toBe('"1"');
      expect((await t.get(id)).headers.etag).toBe('"2"');

      const linkKey = randomUUID();
      const link = { data: [{ type: 'session', id: 'sess_01HQ3Z8N5V2YB7K4M9TXJ6CW01' }] };
      const linked = await post(t, `${ACCOUNTS}/${id}/relationships/sessions`, linkKey, link).expect(200);
      const linkReplay = await post(t, `${ACCOUNTS}/${id}/relationships/sessions`, linkKey, link).expect(200);
      expect([linkReplay.body, linkReplay.headers.etag, linkReplay.headers['idempotent-replayed']]).toEqual([linked.body, '"3"', 'true']);
    });

    it('answers 400 naming the header for a malformed key; both of the draft\'s spellings name one key', async () => {
      for (const bad of ['x'.repeat(256), 'caf\u00e9']) {
        const refused = await create(t, bad).expect(400);
        expect(refused.body.errors).toEqual([expect.objectContaining({ code: 'invalid_header', source: { header: 'Idempotency-Key' } })]);
      }
      const empty = await t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Idempotency-Key', '').send(createDocument()).expect(400);
      expect(empty.body.errors[0].source).toEqual({ header: 'Idempotency-Key' });
      const key = `order-${randomUUID()}`;
      const bare = await create(t, key).expect(201);
      const quoted = await create(t, `"${key}"`).expect(201);
      expect([quoted.body, quoted.headers['idempotent-replayed']]).toEqual([bare.body, 'true']);
      expect((await create(t, 'x'.repeat(255)).expect(201)).headers['idempotent-replayed']).toBeUndefined();
    });

    it('answers a retry of a create whose account was redacted with that account, redacted: never a second one', async () => {
      const key = randomUUID();
      const { id } = (await create(t, key).expect(201)).body.data;
      const redacted = await t.http().post(`${ACCOUNTS}/${id}/redact`).set('X-Api-Key', t.key).set('Idempotency-Key', randomUUID()).expect(200);
      const before = await accountCount(t);
      const retry = await create(t, key).expect(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(redacted.body);
      // Its request is forgotten with its answer: whatever the body, the key answers with that account.
      expect((await create(t, key, { entity_type: 'business' }).expect(201)).body.data.id).toBe(id);
      expect(await accountCount(t)).toBe(before);
    });
  });

  describe('expiry', () => {
    const shift = { ms: 0 };
    const clock: Clock = { now: () => new Date(Date.now() + shift.ms) };
    const t = appForEachSuite({ clock });

    it('forgets a key after 24 hours, and sweeps its record', async () => {
      const key = randomUUID();
      const first = await create(t, key).expect(201);
      shift.ms = 23 * 3600 * 1000;
      expect((await create(t, key).expect(201)).body.data.id).toBe(first.body.data.id);
      await create(t, randomUUID()).expect(201);
      shift.ms = 24 * 3600 * 1000 + 1000;
      // The first key's record is older than a day now; the second one's is not.
      expect(await t.app.get(IdempotentRequests).sweep()).toBe(1);
      expect(await t.app.get(IdempotentRequests).sweep()).toBe(0);
      const later = await create(t, key).expect(201);
      expect(later.headers['idempotent-replayed']).toBeUndefined();
      expect(later.body.data.id).not.toBe(first.body.data.id);
    });
  });
});
