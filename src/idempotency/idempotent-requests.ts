import { createHmac, randomUUID } from 'node:crypto';
import { Clock } from '../kernel/clock';
import { isJsonObject } from '../kernel/json';
import { Tenant } from '../kernel/tenant';
import { JsonApiError } from '../http/jsonapi-error';
import { IdempotencyRecordKey, IdempotencyStore, StoredAnswer } from './idempotency-store.port';

// Safe retries (docs/API.md, Idempotency-Key; the IETF httpapi idempotency-key draft): the first
// answer to a request is kept for a day and given again to every retry with the same key, so a
// client whose answer was lost can send the request again without doing it twice.
//
// How a crash cannot make a second account: before a request's write, the subject it is about (the
// id of the account a create makes) is recorded with the key. A retry after a crash finds the
// record without an answer, waits for the dead attempt's lease to run out, takes it over with the
// recorded subject, and so finds the account the first attempt made instead of making another.

export interface IdempotencyOptions {
  /** How long an attempt holds its key without renewing: a crashed attempt's retry is refused (409) this long. */
  leaseMs: number;
  /** How long a key is remembered. */
  ttlMs: number;
}

export const IDEMPOTENCY_DEFAULTS: IdempotencyOptions = { leaseMs: 10_000, ttlMs: 24 * 60 * 60 * 1000 };

/** Seals answers with their subject's data key, so erasing the subject (redaction) erases them too. */
export interface AnswerSealer {
  /** null: the subject has no key (any more): the answer cannot be kept. */
  seal(subject: string, value: unknown): Promise<string | null>;
  /** undefined: the subject's key is gone. */
  open(subject: string, sealed: string): Promise<unknown>;
}

export interface IdempotentRequest {
  tenant: Tenant;
  key: string;
  method: string;
  /** The path and query as sent. */
  path: string;
  /** The parsed body; key order does not matter. */
  body: unknown;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type Begun =
  | { kind: 'replay'; answer: Answer }
  | { kind: 'execute'; execution: IdempotentExecution };

/** Answers that are never kept: nothing was done, and the same request may well succeed later (RFC 9110 401, 403; RFC 6585 429). */
const NEVER_KEPT = new Set([401, 403, 429]);
const SWEEP_BATCH = 1000;

/** The idempotency mechanism without HTTP: begin a request, then let its execution finish it. */
export class IdempotentRequests {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly sealer: AnswerSealer,
    private readonly clock: Clock,
    /** Keys the HMACs of keys and requests: neither is stored as it was sent (a body holds personal data). */
    private readonly secret: Buffer,
    private readonly options: IdempotencyOptions = IDEMPOTENCY_DEFAULTS,
  ) {}

  /**
   * The stored answer to replay, or an execution holding the key's lease. A key in use by an
   * attempt that still runs answers 409 idempotency_key_in_flight; the key with another request, 422.
   */
  async begin(request: IdempotentRequest): Promise<Begun> {
    const key: IdempotencyRecordKey = { tenant: request.tenant, keyHash: this.hmac(['key', request.key]) };
    const fingerprint = this.hmac(['request', request.method, request.path, canonicalJson(request.body)]);
    for (let attempt = 1; ; attempt++) {
      // A lease token, never shown to anyone: random, so no other attempt can guess and use it.
      const owner = randomUUID();
      const now = this.clock.now().getTime();
      const reservation = await this.store.reserve(key, { fingerprint, owner, now, leaseUntil: now + this.options.leaseMs, expiredBefore: now - this.options.ttlMs });
      switch (reservation.outcome) {
        case 'reused':
          throw JsonApiError.of(422, 'idempotency_key_reused', 'This Idempotency-Key was used for another request (another path or body): use a new key for a new request', {
            source: { header: 'Idempotency-Key' },
          });
        case 'in_flight':
          throw JsonApiError.of(409, 'idempotency_key_in_flight', 'A request with this Idempotency-Key is still being answered: retry shortly', {
            source: { header: 'Idempotency-Key' },
            headers: { 'Retry-After': '1' },
          });
        case 'reserved':
          return { kind: 'execute', execution: new IdempotentExecution(this.store, this.sealer, this.clock, this.options, key, owner, reservation) };
        case 'answered': {
          const answer = await this.read(reservation.answer, reservation.subject);
          if (answer) return { kind: 'replay', answer };
          // Sealed under a key that is gone: its subject was erased a moment ago. Finish that purge, then resume.
          if (attempt > 1) throw new Error('An erased answer is still stored after its purge');
          await this.store.purgeSubject(reservation.subject!);
        }
      }
    }
  }

  /** Erases what the records about `subject` hold of it (its answers, the fingerprints of its requests). */
  async purge(subject: string): Promise<void> {
    await this.store.purgeSubject(subject);
  }

  /** Removes the records older than a day; returns how many. */
  async sweep(): Promise<number> {
    const before = this.clock.now().getTime() - this.options.ttlMs;
    let swept = 0;
    for (;;) {
      const batch = await this.store.sweep(before, SWEEP_BATCH);
      swept += batch;
      if (batch < SWEEP_BATCH) return swept;
    }
  }

  private async read(stored: StoredAnswer, subject: string | null): Promise<Answer | null> {
    if (!stored.sealed) return { status: stored.status, headers: stored.headers, body: JSON.parse(stored.body) };
    const body = await this.sealer.open(subject!, stored.body);
    return body === undefined ? null : { status: stored.status, headers: stored.headers, body };
  }

  private hmac(parts: unknown[]): string {
    return createHmac('sha256', this.secret).update(JSON.stringify(parts), 'utf8').digest('hex');
  }
}

/**
 * One attempt at answering a request, holding its key's lease (renewed while it runs). Whatever
 * the request is about goes through `recordSubject` (before a write that creates it) or `about`;
 * `finish` keeps the answer, or lets the key go.
 */
export class IdempotentExecution {
  /** The subject an earlier attempt of this request recorded: the account its create made, say. */
  readonly earlierSubject: string | null;
  /** An earlier attempt left no answer (it died, or its answer could not be kept). */
  readonly resumed: boolean;
  private subject: string | null;
  private finished = false;
  private readonly renewal: NodeJS.Timeout;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly sealer: AnswerSealer,
    private readonly clock: Clock,
    private readonly options: IdempotencyOptions,
    private readonly key: IdempotencyRecordKey,
    private readonly owner: string,
    reservation: { resumed: boolean; subject: string | null },
  ) {
    this.earlierSubject = reservation.subject;
    this.subject = reservation.subject;
    this.resumed = reservation.resumed;
    // While the attempt runs, its lease is renewed: only an attempt that died lets it run out.
    this.renewal = setInterval(() => {
      this.store.renew(this.key, this.owner, this.clock.now().getTime() + this.options.leaseMs).then(
        (held) => held || clearInterval(this.renewal),
        () => undefined,
      );
    }, Math.max(1, Math.floor(this.options.leaseMs / 3)));
    this.renewal.unref();
  }

  /** Records the subject before the write that creates it, so that a retry after a crash finds it. */
  async recordSubject(subject: string): Promise<void> {
    if (!(await this.store.recordSubject(this.key, this.owner, subject))) {
      // Our lease ran out and a retry took the key over: it answers the request now, not us.
      throw JsonApiError.of(409, 'idempotency_key_in_flight', 'Another attempt of this request took over its Idempotency-Key: retry shortly', {
        source: { header: 'Idempotency-Key' },
        headers: { 'Retry-After': '1' },
      });
    }
    this.subject = subject;
  }

  /** Names what the request is about (the account of its path): its answer is sealed with that account's key. */
  about(subject: string): void {
    this.subject = subject;
  }

  /**
   * Keeps the answer for replays, or lets the key go. 401, 403 and 429 are never kept (the record
   * goes: nothing was done). A 5xx, or an answer with Retry-After, is not kept either, but the
   * record stays, so a retry resumes with its subject (the write may have happened). A success is kept only sealed with its
   * subject's key, so redaction erases it; without one (or once the key is gone) it is not kept,
   * and a retry answers anew. Other errors carry no personal data and are kept as they are.
   */
  async finish(answer: Answer): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.renewal);
    if (NEVER_KEPT.has(answer.status)) {
      await this.store.forget(this.key, this.owner);
      return;
    }
    // A failure of ours, or an answer that says to retry (Retry-After: a write raced by many others):
    // the retry must be done, not told the same again. The record stays, with its subject.
    if (answer.status >= 500 || Object.keys(answer.headers).some((name) => name.toLowerCase() === 'retry-after')) {
      await this.store.release(this.key, this.owner, this.subject);
      return;
    }
    if (answer.status >= 400) {
      await this.store.answer(this.key, this.owner, this.subject, { status: answer.status, headers: answer.headers, body: JSON.stringify(answer.body), sealed: false });
      return;
    }
    const sealed = this.subject === null ? null : await this.sealer.seal(this.subject, answer.body);
    if (sealed === null) await this.store.release(this.key, this.owner, this.subject);
    else await this.store.answer(this.key, this.owner, this.subject, { status: answer.status, headers: answer.headers, body: sealed, sealed: true });
  }
}

/** JSON with every object's keys in one order: the same document however its keys were ordered. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, member: unknown) =>
    isJsonObject(member) ? Object.fromEntries(Object.entries(member).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : member,
  );
}
