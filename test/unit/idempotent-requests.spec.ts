import Database from 'better-sqlite3';
import { JsonApiError } from '../../src/http/jsonapi-error';
import { IdempotencyStore } from '../../src/idempotency/idempotency-store.port';
import { AnswerSealer, Begun, canonicalJson, IdempotentExecution, IdempotentRequests } from '../../src/idempotency/idempotent-requests';
import { Clock } from '../../src/kernel/clock';
import { SqliteIdempotencyStore } from '../../src/storage/sqlite/sqlite-idempotency-store';

// What IdempotentRequests keeps of each kind of answer, and how it treats leases, on the real SQLite
// store in memory. The HTTP behaviour is in test/e2e/idempotency.e2e-spec.ts.

const TENANT = { organization_id: 'acme', environment: 'staging' as const };
const LEASE = 3000;

/** Seals by wrapping; a subject in `shredded` has no key. */
class FakeSealer implements AnswerSealer {
  readonly shredded = new Set<string>();
  async seal(subject: string, value: unknown) {
    return this.shredded.has(subject) ? null : `sealed:${subject}:${JSON.stringify(value)}`;
  }
  async open(subject: string, sealed: string) {
    return this.shredded.has(subject) ? undefined : JSON.parse(sealed.slice(`sealed:${subject}:`.length));
  }
}

describe('IdempotentRequests', () => {
  let db: Database.Database;
  let store: IdempotencyStore;
  let sealer: FakeSealer;
  let now: number;
  let requests: IdempotentRequests;
  const clock: Clock = { now: () => new Date(now) };

  beforeEach(() => {
    db = new Database(':memory:');
    store = new SqliteIdempotencyStore(db);
    sealer = new FakeSealer();
    now = 1_800_000_000_000;
    requests = new IdempotentRequests(store, sealer, clock, Buffer.alloc(32, 7), { leaseMs: LEASE, ttlMs: 24 * 3600 * 1000 });
  });
  afterEach(() => {
    jest.useRealTimers();
    db.close();
  });

  const begin = (body: unknown = { a: 1 }, key = 'key-1') => requests.begin({ tenant: TENANT, key, method: 'POST', path: '/v1/identity/accounts', body });
  const execution = (begun: Begun): IdempotentExecution => {
    if (begun.kind !== 'execute') throw new Error(`expected an execution, got ${begun.kind}`);
    return begun.execution;
  };
  const refusal = (promise: Promise<unknown>) => promise.then(() => null, (error: JsonApiError) => [error.status, error.errors[0].code]);

  it.each([401, 403, 429])('keeps nothing of a %i: the key is new again', async (status) => {
    await execution(await begin()).finish({ status, headers: {}, body: { errors: [] } });
    const next = execution(await begin({ other: 'body' }));
    expect([next.resumed, next.earlierSubject]).toEqual([false, null]);
  });

  it('keeps no 5xx, nor an answer that says to retry, but the record and its subject stay for the retry to resume at once', async () => {
    const first = execution(await begin());
    await first.recordSubject('acc_1');
    await first.finish({ status: 503, headers: { 'Retry-After': '1' }, body: { errors: [] } });
    const second = execution(await begin());
    expect([second.resumed, second.earlierSubject]).toEqual([true, 'acc_1']);
    await second.finish({ status: 409, headers: { 'Retry-After': '1' }, body: { errors: [{ code: 'concurrent_modification' }] } });
    expect(execution(await begin()).earlierSubject).toBe('acc_1');
  });

  it('keeps an error answer as it is, and a success sealed with its subject', async () => {
    await execution(await begin({ bad: true }, 'key-err')).finish({ status: 422, headers: {}, body: { errors: [{ code: 'invalid_attribute' }] } });
    expect(await begin({ bad: true }, 'key-err')).toEqual({ kind: 'replay', answer: { status: 422, headers: {}, body: { errors: [{ code: 'invalid_attribute' }] } } });

    const created = execution(await begin());
    await created.recordSubject('acc_1');
    await created.finish({ status: 201, headers: { Location: 'https://x/acc_1', ETag: '"0"' }, body: { data: { id: 'acc_1', email: 'a@example.com' } } });
    const row = db.prepare('SELECT body, sealed, subject FROM idempotency_records WHERE subject IS NOT NULL').get();
    expect(row).toEqual({ body: 'sealed:acc_1:{"data":{"id":"acc_1","email":"a@example.com"}}', sealed: 1, subject: 'acc_1' });
    expect(await begin({ a: 1 })).toEqual({ kind: 'replay', answer: { status: 201, headers: { Location: 'https://x/acc_1', ETag: '"0"' }, body: { data: { id: 'acc_1', email: 'a@example.com' } } } });
  });

  it('does not keep a success it cannot seal (no subject named, or its key is gone): the retry answers anew', async () => {
    await execution(await begin()).finish({ status: 200, headers: {}, body: { data: {} } });
    expect(execution(await begin()).resumed).toBe(true);
    const about = execution(await begin({ b: 2 }, 'key-2'));
    about.about('acc_gone');
    sealer.shredded.add('acc_gone');
    await about.finish({ status: 200, headers: {}, body: { data: {} } });
    expect(execution(await begin({ b: 2 }, 'key-2'))).toMatchObject({ resumed: true, earlierSubject: 'acc_gone' });
  });

  it('purges an answer whose key was destroyed before its purge ran, and resumes', async () => {
    const created = execution(await begin());
    await created.recordSubject('acc_1');
    await created.finish({ status: 201, headers: {}, body: { data: { id: 'acc_1' } } });
    sealer.shredded.add('acc_1');
    expect(execution(await begin())).toMatchObject({ resumed: true, earlierSubject: 'acc_1' });
    // Purged: its request's fingerprint is gone too.
    expect(db.prepare('SELECT fingerprint, body FROM idempotency_records').get()).toEqual({ fingerprint: null, body: null });
  });

  it('refuses another request with the key (422), and the key while an attempt holds it (409); an attempt that lost the key records nothing', async () => {
    const first = execution(await begin());
    expect(await refusal(begin({ a: 2 }))).toEqual([422, 'idempotency_key_reused']);
    expect(await refusal(begin())).toEqual([409, 'idempotency_key_in_flight']);
    // Its process stalls past the lease; a retry takes over.
    now += LEASE + 1;
    const second = execution(await begin());
    expect(await refusal(first.recordSubject('acc_late'))).toEqual([409, 'idempotency_key_in_flight']);
    await first.finish({ status: 201, headers: {}, body: {} });
    await second.recordSubject('acc_2');
    expect(execution((now += LEASE + 1, await begin())).earlierSubject).toBe('acc_2');
  });

  it('renews the lease while the attempt runs, so a slow attempt is not taken over', async () => {
    jest.useFakeTimers();
    const running = execution(await begin());
    for (let step = 0; step < 5; step++) {
      now += LEASE / 2;
      await jest.advanceTimersByTimeAsync(LEASE / 2);
      expect(await refusal(begin())).toEqual([409, 'idempotency_key_in_flight']);
    }
    await running.finish({ status: 422, headers: {}, body: { errors: [] } });
    expect((await begin()).kind).toBe('replay');
  });

  it('fingerprints the JSON, not its spelling: member order does not matter, array order does', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(canonicalJson({ a: { c: null, d: [2, 1] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson(undefined)).toBe('null');
  });
});
