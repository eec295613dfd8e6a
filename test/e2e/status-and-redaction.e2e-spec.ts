import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashOfStoredEvent } from '../../src/accounts/application/event-chain';
import { EVENTS_FILE, STATE_FILE } from '../../src/storage/sqlite/sqlite-storage';
import { accountStream } from '../../src/accounts/application/account-repository';
import { decide } from '../../src/accounts/domain/decide';
import { ACCOUNTS, appForEachSuite, GUIDE_CREATE_ATTRIBUTES, removeDir, startApp, TestApp, uniqueGuideAttributes } from '../support/app-harness';
import { freshFolds } from '../support/fresh-folds';
import { openServices } from '../support/services';
import { queryStore, storedBytes, storedPlaintextHits } from '../support/stored-data';
import { eventsInSqlite, itReadingStoredBytes, stateInSqlite } from '../support/test-storage';

jest.setTimeout(60_000);

const changeStatus = (t: TestApp, id: string, status: string, reason?: string) =>
  t.http().post(`${ACCOUNTS}/${id}/status`).set('X-Api-Key', t.key)
    .send({ data: { type: 'account-status-change', attributes: { status, ...(reason ? { reason } : {}) } } });
const redact = (t: TestApp, id: string) => t.http().post(`${ACCOUNTS}/${id}/redact`).set('X-Api-Key', t.key);

describe('Status changes', () => {
  const t = appForEachSuite();

  it('activates, suspends, re-activates, deactivates and sends back to verification; every status of the guide\'s switch is reached', async () => {
    const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    const seen = ['pending'];
    let revision = 0;
    for (const status of ['active', 'suspended', 'active', 'inactive', 'pending']) {
      const changed = await changeStatus(t, id, status, `to ${status}`).expect(200);
      revision += 1;
      expect(changed.body.data.attributes.status).toBe(status);
      expect(changed.headers.etag).toBe(`"${revision}"`);
      const read = await t.get(id).expect(200);
      expect(read.body).toEqual(changed.body);
      seen.push(status);
    }
    expect(new Set(seen)).toEqual(new Set(['active', 'pending', 'suspended', 'inactive']));
  });

  it('records nothing for a change to the current status', async () => {
    const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    const same = await changeStatus(t, id, 'pending').expect(200);
    expect(same.headers.etag).toBe('"0"');
    expect(same.body.data.attributes.updated_at).toBeNull();
  });

  it('answers a forbidden transition with 409 invalid_status_transition naming from and to', async () => {
    const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    await changeStatus(t, id, 'active').expect(200);
    const refused = await changeStatus(t, id, 'pending').expect(409);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ status: '409', code: 'invalid_status_transition', meta: { from: 'active', to: 'pending' }, detail: expect.stringMatching(/active.*pending/) }),
    ]);
    expect((await t.get(id)).body.data.attributes.status).toBe('active');
  });

  it('validates the status document', async () => {
    const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    const bogus = await changeStatus(t, id, 'frozen').expect(422);
    expect(bogus.body.errors[0].source.pointer).toBe('/data/attributes/status');
    const long = await changeStatus(t, id, 'active', 'x'.repeat(501)).expect(422);
    expect(long.body.errors[0].source.pointer).toBe('/data/attributes/reason');
    await t.http().post(`${ACCOUNTS}/${id}/status`).set('X-Api-Key', t.key).send({ data: { type: 'account', attributes: { status: 'active' } } }).expect(409);
    const missing = await t.http().post(`${ACCOUNTS}/${id}/status`).set('X-Api-Key', t.key).send({ data: { type: 'account-status-change', attributes: {} } }).expect(422);
    expect(missing.body.errors[0].source.pointer).toBe('/data/attributes/status');
    await changeStatus(t, 'acc_01HQ00000000000000000000ZZ', 'active').expect(404);
  });

  it('refuses status in create and PATCH, pointing at the status endpoint', async () => {
    const created = await t.create({ entity_type: 'person', status: 'active' }).expect(422);
    expect(created.body.errors[0]).toMatchObject({ code: 'read_only_attribute', source: { pointer: '/data/attributes/status' } });
    expect(created.body.errors[0].detail).toContain('/status');
    const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    const patched = await t.patch(id, { status: 'active' }).expect(422);
    expect(patched.body.errors[0].detail).toContain('/status');
  });
});

describe('Redaction', () => {
  const t = appForEachSuite();

  it('answers the redacted account, the same again without a new event, and freezes it', async () => {
    const { id } = (await t.create({ ...GUIDE_CREATE_ATTRIBUTES, address: { line1: '1 Main St', country_code: 'US' } }).expect(201)).body.data;
    await changeStatus(t, id, 'active').expect(200);
    const first = await redact(t, id).expect(200);
    const a = first.body.data.attributes;
    expect(a).toMatchObject({
      status: 'active', external_id: 'user-12345', entity_type: 'person', person: null, business: null, contact: null, address: null, identity_numbers: [],
      redacted_at: expect.stringMatching(/Z$/),
    });
    expect(a.created_at).toEqual(expect.any(String));
    expect(first.body.data.relationships).toEqual({ sessions: { data: [] }, documents: { data: [] } });
    expect(first.headers.etag).toBe('"2"');

    const again = await redact(t, id).expect(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.etag).toBe('"2"');
    expect((await t.get(id).expect(200)).body).toEqual(first.body);

    const patch = await t.patch(id, { contact: { email: 'back@example.com' } }).expect(409);
    expect(patch.body.errors[0].code).toBe('account_redacted');
    expect((await changeStatus(t, id, 'suspended').expect(409)).body.errors[0].code).toBe('account_redacted');
    expect((await t.get(id)).headers.etag).toBe('"2"');
  });

  it('is a first-class event in the stream: who, when and which request', async () => {
    const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
    const response = await redact(t, id).set('X-Request-Id', 'erasure-request-42').expect(200);
    const services = await openServices(t.dataDir, { access: 'read-only' });
    const events = await services.eventStore.readStream(accountStream(id));
    await services.close();
    const last = events.at(-1)!;
    expect(last.type).toBe('account.redacted');
    expect(last.data).toEqual({ account_id: id, redacted_at: response.body.data.attributes.redacted_at });
    expect(last.metadata).toMatchObject({ request_id: 'erasure-request-42', api_key_id: expect.stringMatching(/^key_/), tenant: { organization_id: 'default', environment: 'staging' } });
    // Each event names the hash of its predecessor as stored, so the chain survives redaction.
    expect(events.map((e) => e.metadata.prev_hash)).toEqual([null, ...events.slice(0, -1).map(hashOfStoredEvent)]);
  });

  it('is not undone by PATCHes sent concurrently with it: personal data never comes back (interleaved races: test/integration)', async () => {
    for (let round = 0; round < 5; round++) {
      const { id } = (await t.create(uniqueGuideAttributes()).expect(201)).body.data;
      const racers = [
        ...Array.from({ length: 6 }, (_, i) => t.patch(id, { contact: { email: `racer${i}@example.com` }, person: { name: { first: `Racer${i}` } } })),
        redact(t, id),
        ...Array.from({ length: 6 }, (_, i) => t.patch(id, { address: { line1: `${i} Race St` } })),
      ];
      const statuses = (await Promise.all(racers)).map((r) => r.status);
      for (const status of statuses) expect([200, 409]).toContain(status);
      const read = await t.get(id).expect(200);
      expect(read.body.data.attributes).toMatchObject({ person: null, contact: null, address: null, identity_numbers: [], redacted_at: expect.any(String) });
      const fold = (await freshFolds(t.dataDir, [id])).get(id)!;
      expect(fold.body).toEqual(read.body);
    }
  });
});

describe('Redaction after a crash', () => {
  it('finishes the crypto-shredding when the process died between storing account.redacted and destroying the key', async () => {
    const t = await startApp();
    const { id } = (await t.create(GUIDE_CREATE_ATTRIBUTES).expect(201)).body.data;
    await t.close();

    // What the redact handler does up to the moment of the crash: the event is stored, the key is not destroyed yet.
    const services = await openServices(t.dataDir);
    const { repository } = services;
    const loaded = await repository.load(id);
    const events = decide({ kind: 'RedactAccount', now: '2026-01-01T00:00:00Z' }, loaded.state);
    await repository.append(loaded, events, { tenant: loaded.state!.tenant, api_key_id: 'key_test', request_id: 'req_crash', correlation_id: 'req_crash' });
    expect(await services.dataKeys.get(id)).not.toBeNull();
    await services.close();

    const restarted = await startApp({ dataDir: t.dataDir, key: t.key });
    try {
      const read = await restarted.get(id).expect(200);
      expect(read.body.data.attributes).toMatchObject({ person: null, contact: null, redacted_at: '2026-01-01T00:00:00Z' });
      expect(await queryStore(t.dataDir, 'keys', 'SELECT account_id FROM data_keys WHERE account_id = ?', [id])).toEqual([]);
    } finally {
      await restarted.close();
      removeDir(t.dataDir);
    }
  });
});

describe('Erasure proof', () => {
  const VALUES = {
    first: 'Evangelina', middle: 'Thistlewood', last: 'Okonkwo-Brannigan', birth: '1968-11-04', email: 'evangelina.ob@post-qzx.example',
    phone: '+61491570157', line1: '221 Marrowbone Terrace', line2: 'Flat 7Q', locality: 'Wyndhollow', area: 'Northshire', postal: 'WH3 8ZP',
    ssn: '604-18-3357', passport: 'PX9981273', newEmail: 'e.thistlewood@mail-qzx.example', newPhone: '+61491570999',
    legalName: 'Quillfeather Brannigan Holdings', shareholder: 'Octavia Marchbanks-Yew', shareholderId: 'SHX-44120987', reason: 'flagged by analyst Rosalind Featherstonehaugh',
  };

  itReadingStoredBytes('leaves none of an account\'s personal values in any file under DATA_DIR or page of its database, and replays to the redacted account', async () => {
    const t = await startApp();
    // Sent with Idempotency-Key, so their answers (which hold the personal values) are kept too.
    const keys = { person: 'erasure-create-person', business: 'erasure-create-business', status: 'erasure-status' };
    const person = await t.create({
      external_id: 'erase-me',
      entity_type: 'person',
      person: { name: { first: VALUES.first, middle: VALUES.middle, last: VALUES.last }, birth_date: VALUES.birth, sex: 'female' },
      contact: { email: VALUES.email, phone: VALUES.phone },
      address: { line1: VALUES.line1, line2: VALUES.line2, locality: VALUES.locality, administrative_area: VALUES.area, postal_code: VALUES.postal, country_code: 'AU' },
      identity_numbers: [{ number: VALUES.ssn, class: 'ssn', issuing_country_code: 'US' }, { number: VALUES.passport, class: 'passport', issuing_country_code: 'AU' }],
    }).set('Idempotency-Key', keys.person).expect(201);
    const business = await t.create({
      external_id: 'erase-biz',
      entity_type: 'business',
      business: {
        legal_name: VALUES.legalName,
        registration_date: '2001-02-03',
        shareholders: [{ name: VALUES.shareholder, shareholder_type: 'person', date_of_birth: '1950-06-07', id_type: 'passport', id_number: VALUES.shareholderId, number_of_share: '1000', percentage_of_share: 100 }],
      },
    }).set('Idempotency-Key', keys.business).expect(201);
    const ids = [person.body.data.id, business.body.data.id];
    await t.patch(ids[0], { contact: { email: VALUES.newEmail, phone: VALUES.newPhone } }).expect(200);
    await changeStatus(t, ids[0], 'suspended', VALUES.reason).set('Idempotency-Key', keys.status).expect(200);
    expect((await changeStatus(t, ids[0], 'suspended', VALUES.reason).set('Idempotency-Key', keys.status).expect(200)).headers['idempotent-replayed']).toBe('true');
    expect((await idempotencyRecords(t.dataDir, ids)).filter((r) => r.answered)).toHaveLength(3);
    // Before any redaction too, no store holds a personal value as it was sent: kept answers are sealed with the account's key.
    expect(await storedPlaintextHits(t.dataDir, Object.values(VALUES))).toEqual([]);

    const wrappedKeys = await readWrappedKeys(t.dataDir, ids);
    expect(wrappedKeys).toHaveLength(2);
    const holding = (stored: { bytes: Buffer }[], key: Buffer) => stored.some((s) => s.bytes.includes(key));
    for (const key of wrappedKeys) expect(holding(await storedBytes(t.dataDir), key)).toBe(true);

    // A reader holding snapshots of the other SQLite files open (a backup, the CLI, a second instance)
    // must not keep a copy of a destroyed key alive. (On PostgreSQL: test/integration/postgres-erasure.spec.ts.)
    const readers = [...(stateInSqlite ? [STATE_FILE] : []), ...(eventsInSqlite ? [EVENTS_FILE] : [])].map((file) => new Database(join(t.dataDir, file), { readonly: true }));
    for (const reader of readers) {
      reader.exec('BEGIN');
      reader.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    }
    const redacted = [];
    for (const id of ids) redacted.push((await redact(t, id).expect(200)).body);
    for (const reader of readers) reader.close();
    // While the service still runs (WAL files live), and again once it has stopped.
    for (const key of wrappedKeys) expect(holding(await storedBytes(t.dataDir), key)).toBe(false);
    await t.close();

    const stored = await storedBytes(t.dataDir);
    // The scan read the stores that hold the events, not an empty place.
    expect(Number((await queryStore<{ n: number | string }>(t.dataDir, 'events', 'SELECT COUNT(*) AS n FROM events'))[0].n)).toBeGreaterThan(5);
    expect(await storedPlaintextHits(t.dataDir, Object.values(VALUES), [{ name: 'logs', text: t.logs.join('\n') }])).toEqual([]);
    // Crypto-shredding: no copy of either data key is left, live or dead, so the ciphertexts in the events are noise.
    for (const key of wrappedKeys) expect(holding(stored, key)).toBe(false);

    // The kept answers are purged with the accounts: no answer, no fingerprint of a request is left.
    expect(await idempotencyRecords(t.dataDir, ids)).toEqual([
      { answered: false, fingerprinted: false },
      { answered: false, fingerprinted: false },
      { answered: false, fingerprinted: false },
    ]);

    const restarted = await startApp({ dataDir: t.dataDir, key: t.key });
    try {
      for (const [i, id] of ids.entries()) expect((await restarted.get(id).expect(200)).body).toEqual(redacted[i]);
      // A retry of the create is answered with the redacted account, not the erased answer (and makes no other account).
      const retry = await restarted.create({ entity_type: 'person' }).set('Idempotency-Key', keys.person).expect(201);
      expect(retry.body).toEqual(redacted[0]);
      const folds = await freshFolds(t.dataDir, ids);
      for (const [i, id] of ids.entries()) expect(folds.get(id)!.body).toEqual(redacted[i]);
    } finally {
      await restarted.close();
    }

    // The read model rebuilt from scratch agrees.
    await queryStore(t.dataDir, 'state', 'DELETE FROM accounts');
    await queryStore(t.dataDir, 'state', 'DELETE FROM projection_checkpoints');
    const rebuilt = await startApp({ dataDir: t.dataDir, key: t.key });
    try {
      for (const [i, id] of ids.entries()) expect((await rebuilt.get(id).expect(200)).body).toEqual(redacted[i]);
    } finally {
      await rebuilt.close();
      removeDir(t.dataDir);
    }
  });
});

/** The idempotency records about these accounts: whether each still holds an answer, and its request's fingerprint. */
async function idempotencyRecords(dataDir: string, ids: string[]): Promise<{ answered: boolean; fingerprinted: boolean }[]> {
  const rows = await queryStore<{ body: string | null; fingerprint: string | null }>(
    dataDir,
    'state',
    `SELECT body, fingerprint FROM idempotency_records WHERE subject IN (${ids.map(() => '?').join(', ')}) ORDER BY created_at`,
    ids,
  );
  return rows.map((row) => ({ answered: row.body !== null, fingerprinted: row.fingerprint !== null }));
}

/** The data keys of these accounts, wrapped under the master key, as stored. */
async function readWrappedKeys(dataDir: string, ids: string[]): Promise<Buffer[]> {
  const services = await openServices(dataDir, { access: 'read-only' });
  try {
    return await Promise.all(ids.map(async (id) => (await services.dataKeys.get(id))!));
  } finally {
    await services.close();
  }
}
