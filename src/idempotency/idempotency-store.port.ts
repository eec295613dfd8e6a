import { Tenant } from '../kernel/tenant';

// Idempotency records (docs/API.md, Idempotency-Key): one per (tenant, key), holding the request's
// fingerprint, who is answering it now (a lease), the subject it is about (an account id, chosen
// before the write that creates it), and once there is one, the answer to replay.

/** Which record. Keys are per tenant; a key is kept only as an HMAC (a client may put anything in it). */
export interface IdempotencyRecordKey {
  tenant: Tenant;
  keyHash: string;
}

/** An answer as kept for replay. */
export interface StoredAnswer {
  status: number;
  /** The headers a replay repeats (Location, ETag, Retry-After). */
  headers: Record<string, string>;
  /** JSON text, or (sealed) JSON sealed with the subject's data key, so erasing the subject erases it. */
  body: string;
  sealed: boolean;
}

export interface ReservationClaim {
  /** An HMAC of the request (method, path, body): the same key with another request is refused. */
  fingerprint: string;
  /** This attempt's own random token: only the lease's holder records a subject, renews, answers or lets go. */
  owner: string;
  /** The service clock, in milliseconds since the epoch (as every time here). */
  now: number;
  leaseUntil: number;
  /** Records created before this have expired: their key is new again. */
  expiredBefore: number;
}

export type Reservation =
  /** The claim holds the lease now: answer the request. `resumed`: an earlier attempt left no answer (its process died, say); `subject` is what it recorded. */
  | { outcome: 'reserved'; resumed: boolean; subject: string | null }
  | { outcome: 'answered'; subject: string | null; answer: StoredAnswer }
  /** Another attempt holds a lease that has not run out. */
  | { outcome: 'in_flight' }
  /** The key was used for another request. */
  | { outcome: 'reused' };

/** One record as the adapters keep it; the rules below decide on it the same way for every adapter. */
export interface IdempotencyRecord {
  fingerprint: string | null;
  subject: string | null;
  owner: string | null;
  leaseUntil: number;
  createdAt: number;
  answer: StoredAnswer | null;
}

/** What a reservation does to the record it finds (or does not find): the adapters only carry it out, atomically. */
export function reservationStep(record: IdempotencyRecord | null, claim: ReservationClaim): { reservation: Reservation; write: 'create' | 'take_over' | null } {
  if (!record || record.createdAt < claim.expiredBefore) return { reservation: { outcome: 'reserved', resumed: false, subject: null }, write: 'create' };
  // A purged record (its subject was erased) has no fingerprint left to compare: any request may resume it.
  if (record.fingerprint !== null && record.fingerprint !== claim.fingerprint) return { reservation: { outcome: 'reused' }, write: null };
  if (record.answer) return { reservation: { outcome: 'answered', subject: record.subject, answer: record.answer }, write: null };
  if (record.leaseUntil > claim.now) return { reservation: { outcome: 'in_flight' }, write: null };
  return { reservation: { outcome: 'reserved', resumed: true, subject: record.subject }, write: 'take_over' };
}

/**
 * Every method but reserve, purgeSubject and sweep acts only while `owner` holds the record (a
 * compare-and-set on it), and says whether it did: an attempt whose lease was taken over changes
 * nothing. Atomic across processes sharing the store.
 */
export abstract class IdempotencyStore {
  /** Creates a record (or replaces an expired one), takes over one whose lease ran out, or says why not. */
  abstract reserve(key: IdempotencyRecordKey, claim: ReservationClaim): Promise<Reservation>;
  abstract renew(key: IdempotencyRecordKey, owner: string, leaseUntil: number): Promise<boolean>;
  /** Records, before the write it names, what the request is about: a retry resumes with it. */
  abstract recordSubject(key: IdempotencyRecordKey, owner: string, subject: string): Promise<boolean>;
  /** Keeps the answer, and ends the lease. */
  abstract answer(key: IdempotencyRecordKey, owner: string, subject: string | null, answer: StoredAnswer): Promise<boolean>;
  /** Ends the lease without an answer; the record stays, with its subject (this one, when given), for the next attempt to resume. */
  abstract release(key: IdempotencyRecordKey, owner: string, subject: string | null): Promise<boolean>;
  /** Removes the record: nothing was done under it. */
  abstract forget(key: IdempotencyRecordKey, owner: string): Promise<boolean>;
  /**
   * Drops the answers and fingerprints of every record about `subject` (its personal data is being
   * erased); the records stay, with their subject, so a retry resumes instead of creating anew.
   * Returns how many records it changed.
   */
  abstract purgeSubject(subject: string): Promise<number>;
  /** Removes up to `limit` records created before `createdBefore`; returns how many. */
  abstract sweep(createdBefore: number, limit: number): Promise<number>;
  /** Reads a record, for checks and tests. */
  abstract get(key: IdempotencyRecordKey): Promise<IdempotencyRecord | null>;
  abstract close(): Promise<void>;
}
