import { Tenant } from '../../src/kernel/tenant';
import { IdempotencyRecordKey, IdempotencyStore, ReservationClaim, StoredAnswer } from '../../src/idempotency/idempotency-store.port';

/** Opens instances of one idempotency store (same file or same database), empty at the start of each test. */
export interface IdempotencyStoreFixture {
  open(): Promise<IdempotencyStore>;
  dispose(): Promise<void>;
}

const TENANT: Tenant = { organization_id: 'acme', environment: 'staging' };
const OTHER: Tenant = { organization_id: 'acme', environment: 'production' };
const key = (n: number, tenant = TENANT): IdempotencyRecordKey => ({ tenant, keyHash: `k${String(n).padStart(63, '0')}` });

const T0 = 1_800_000_000_000;
const LEASE = 10_000;
const DAY = 24 * 3600 * 1000;
/** A claim at `now` by `owner`, for the request with fingerprint `fp`. */
const claim = (owner: string, now = T0, fp = 'fp-1'): ReservationClaim => ({ fingerprint: fp, owner, now, leaseUntil: now + LEASE, expiredBefore: now - DAY });
const ANSWER: StoredAnswer = { status: 201, headers: { Location: 'https://x.example/v1/identity/accounts/acc_1', ETag: '"0"' }, body: 'v1.c2VhbGVk', sealed: true };

/** Every adapter of the IdempotencyStore port must pass this suite unchanged. */
export function idempotencyStoreContract(name: string, makeFixture: () => Promise<IdempotencyStoreFixture>) {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let fixture: IdempotencyStoreFixture;
    let store: IdempotencyStore;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
    });
    afterEach(() => fixture.dispose());

    it('reserves a new key; the same request while the lease holds is in flight; another request with the key is refused', async () => {
      expect(await store.reserve(key(1), claim('a'))).toEqual({ outcome: 'reserved', resumed: false, subject: null });
      expect(await store.reserve(key(1), claim('b', T0 + 1))).toEqual({ outcome: 'in_flight' });
      expect(await store.reserve(key(1), claim('b', T0 + 1, 'fp-2'))).toEqual({ outcome: 'reused' });
      expect(await store.get(key(1))).toEqual({ fingerprint: 'fp-1', subject: null, owner: 'a', leaseUntil: T0 + LEASE, createdAt: T0, answer: null });
    });

    it('keeps the answer of the lease holder only, then answers every retry with it, subject included', async () => {
      await store.reserve(key(1), claim('a'));
      expect(await store.answer(key(1), 'intruder', 'acc_1', ANSWER)).toBe(false);
      expect(await store.answer(key(1), 'a', 'acc_1', ANSWER)).toBe(true);
      expect(await store.reserve(key(1), claim('b', T0 + 5))).toEqual({ outcome: 'answered', subject: 'acc_1', answer: ANSWER });
      // Long after the lease, still the answer; another request with the key, still refused.
      expect(await store.reserve(key(1), claim('c', T0 + DAY - 1))).toEqual({ outcome: 'answered', subject: 'acc_1', answer: ANSWER });
      expect(await store.reserve(key(1), claim('c', T0 + 5, 'fp-2'))).toEqual({ outcome: 'reused' });
      // A plain answer (an error document) reads back as written.
      await store.reserve(key(2), claim('a'));
      const plain: StoredAnswer = { status: 422, headers: {}, body: '{"errors":[{"code":"invalid_attribute"}]}', sealed: false };
      await store.answer(key(2), 'a', null, plain);
      expect(await store.reserve(key(2), claim('b'))).toEqual({ outcome: 'answered', subject: null, answer: plain });
    });

    it('lets the next attempt resume, with the recorded subject, once the holder\'s lease runs out without an answer', async () => {
      await store.reserve(key(1), claim('a'));
      expect(await store.recordSubject(key(1), 'intruder', 'acc_x')).toBe(false);
      expect(await store.recordSubject(key(1), 'a', 'acc_1')).toBe(true);
      expect(await store.renew(key(1), 'a', T0 + 2 * LEASE)).toBe(true);
      expect(await store.renew(key(1), 'intruder', T0 + 9 * LEASE)).toBe(false);
      expect(await store.reserve(key(1), claim('b', T0 + LEASE + 1))).toEqual({ outcome: 'in_flight' });
      expect(await store.reserve(key(1), claim('b', T0 + 2 * LEASE + 1))).toEqual({ outcome: 'reserved', resumed: true, subject: 'acc_1' });
      // The first attempt, still running after all, can no longer record, renew, answer or let go.
      expect(await store.recordSubject(key(1), 'a', 'acc_2')).toBe(false);
      expect(await store.renew(key(1), 'a', T0 + 9 * LEASE)).toBe(false);
      expect(await store.answer(key(1), 'a', 'acc_1', ANSWER)).toBe(false);
      expect(await store.release(key(1), 'a', null)).toBe(false);
      expect(await store.forget(key(1), 'a')).toBe(false);
      expect(await store.get(key(1))).toMatchObject({ owner: 'b', subject: 'acc_1', answer: null });
    });

    it('resumes at once after a release, and starts afresh after a forget', async () => {
      await store.reserve(key(1), claim('a'));
      await store.recordSubject(key(1), 'a', 'acc_1');
      expect(await store.release(key(1), 'a', null)).toBe(true);
      expect(await store.reserve(key(1), claim('b', T0 + 1))).toEqual({ outcome: 'reserved', resumed: true, subject: 'acc_1' });
      // Released with the subject it was about, the record names it (so that a purge finds it).
      expect(await store.release(key(1), 'b', 'acc_2')).toBe(true);
      expect(await store.reserve(key(1), claim('b', T0 + 2))).toEqual({ outcome: 'reserved', resumed: true, subject: 'acc_2' });
      expect(await store.forget(key(1), 'b')).toBe(true);
      expect(await store.get(key(1))).toBeNull();
      expect(await store.reserve(key(1), claim('c', T0 + 2, 'fp-2'))).toEqual({ outcome: 'reserved', resumed: false, subject: null });
    });

    it('keeps keys apart per tenant', async () => {
      await store.reserve(key(1), claim('a'));
      await store.answer(key(1), 'a', 'acc_1', ANSWER);
      expect(await store.reserve(key(1, OTHER), claim('b', T0, 'fp-2'))).toEqual({ outcome: 'reserved', resumed: false, subject: null });
      expect(await store.reserve(key(1, { ...TENANT, organization_id: 'acme2' }), claim('c'))).toEqual({ outcome: 'reserved', resumed: false, subject: null });
      expect(await store.reserve(key(1), claim('d'))).toMatchObject({ outcome: 'answered' });
    });

    it('treats a record older than a day as gone: its key is new again', async () => {
      await store.reserve(key(1), claim('a'));
      await store.recordSubject(key(1), 'a', 'acc_1');
      await store.answer(key(1), 'a', 'acc_1', ANSWER);
      const later = T0 + DAY + 1;
      expect(await store.reserve(key(1), claim('b', later, 'fp-2'))).toEqual({ outcome: 'reserved', resumed: false, subject: null });
      expect(await store.get(key(1))).toEqual({ fingerprint: 'fp-2', subject: null, owner: 'b', leaseUntil: later + LEASE, createdAt: later, answer: null });
    });

    it('purges the answers and fingerprints of a subject, keeping the records to resume with any request', async () => {
      for (const [n, subject] of [[1, 'acc_1'], [2, 'acc_1'], [3, 'acc_2']] as const) {
        await store.reserve(key(n), claim('a'));
        await store.answer(key(n), 'a', subject, ANSWER);
      }
      await store.reserve(key(4), claim('a'));
      await store.recordSubject(key(4), 'a', 'acc_1');
      expect(await store.purgeSubject('acc_1')).toBe(3);
      expect(await store.get(key(1))).toEqual({ fingerprint: null, subject: 'acc_1', owner: null, leaseUntil: 0, createdAt: T0, answer: null });
      expect(await store.reserve(key(1), claim('b', T0 + 1, 'fp-other'))).toEqual({ outcome: 'reserved', resumed: true, subject: 'acc_1' });
      // A record whose attempt is still under way keeps its lease: that attempt's answer decides.
      expect(await store.get(key(4))).toMatchObject({ fingerprint: null, owner: 'a', subject: 'acc_1' });
      expect(await store.reserve(key(3), claim('b'))).toMatchObject({ outcome: 'answered', subject: 'acc_2' });
      expect(await store.purgeSubject('acc_9')).toBe(0);
    });

    it('sweeps the records older than the bound, a batch at a time', async () => {
      for (let n = 0; n < 5; n++) await store.reserve(key(n), claim('a', T0 + n));
      expect(await store.sweep(T0 + 3, 2)).toBe(2);
      expect(await store.sweep(T0 + 3, 2)).toBe(1);
      expect(await store.sweep(T0 + 3, 2)).toBe(0);
      expect(await store.get(key(2))).toBeNull();
      expect(await store.get(key(3))).not.toBeNull();
    });

    it('is shared by every instance on the same store: of many racing reservations of one key, exactly one holds it', async () => {
      const others = [store, await fixture.open(), await fixture.open()];
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => others[i % 3].reserve(key(7), claim(`owner-${i}`))));
      expect(outcomes.filter((o) => o.outcome === 'reserved')).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'in_flight')).toHaveLength(11);
      const holder = (await others[1].get(key(7)))!.owner!;
      expect(await others[2].answer(key(7), holder, 'acc_7', ANSWER)).toBe(true);
      expect(await others[0].reserve(key(7), claim('late', T0 + 1))).toMatchObject({ outcome: 'answered', subject: 'acc_7' });
    });
  });
}
