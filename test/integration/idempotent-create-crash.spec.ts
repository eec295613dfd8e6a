// A process that dies while answering a create sent with Idempotency-Key, at each step of it, made
// to happen deterministically: the first app's store is a test double that, at the chosen step,
// never returns again (as after kill -9: nothing more is written, the lease is no longer renewed).
// The client's retry then goes to a second app on the same files, a fresh composition root, as a
// restarted or another service process would be. Whatever step the first one died at, the retry
// never makes a second account.
import { randomUUID } from 'node:crypto';
import { ACCOUNT_CREATED } from '../../src/accounts/domain/events';
import { IdempotencyRecord, IdempotencyRecordKey, IdempotencyStore, Reservation, ReservationClaim, StoredAnswer } from '../../src/idempotency/idempotency-store.port';
import { IDEMPOTENCY_DEFAULTS } from '../../src/idempotency/idempotent-requests';
import { Clock } from '../../src/kernel/clock';
import { AppendResult, EventStore, EventToAppend, ExpectedRevision, START } from '../../src/storage/event-store.port';
import { ACCOUNTS, removeDir, startApp, TestApp, tempDataDir } from '../support/app-harness';
import { ForwardingEventStore } from '../support/forwarding-event-store';
import { openServices } from '../support/services';

jest.setTimeout(60_000);

const ATTRIBUTES = { entity_type: 'person', person: { name: { first: 'Ottoline', last: 'Vance' } }, contact: { email: 'ottoline@example.com' } };
const never = () => new Promise<never>(() => undefined);

/** Resolves when the double stops the process; from then on its every call hangs. */
class Halt {
  private stopped = false;
  readonly reached: Promise<void>;
  private reach!: () => void;
  constructor() {
    this.reached = new Promise((resolve) => (this.reach = resolve));
  }
  get halted() {
    return this.stopped;
  }
  now(): Promise<never> {
    this.stopped = true;
    this.reach();
    return never();
  }
}

/** The idempotency store of a process that dies when it is about to keep an answer. */
class DyingIdempotencyStore extends IdempotencyStore {
  constructor(
    private readonly inner: IdempotencyStore,
    private readonly halt: Halt,
  ) {
    super();
  }
  private pass<T>(call: () => Promise<T>): Promise<T> {
    return this.halt.halted ? never() : call();
  }
  reserve(key: IdempotencyRecordKey, claim: ReservationClaim): Promise<Reservation> {
    return this.pass(() => this.inner.reserve(key, claim));
  }
  renew(key: IdempotencyRecordKey, owner: string, leaseUntil: number): Promise<boolean> {
    return this.pass(() => this.inner.renew(key, owner, leaseUntil));
  }
  recordSubject(key: IdempotencyRecordKey, owner: string, subject: string): Promise<boolean> {
    return this.pass(() => this.inner.recordSubject(key, owner, subject));
  }
  answer(_key: IdempotencyRecordKey, _owner: string, _subject: string | null, _answer: StoredAnswer): Promise<boolean> {
    return this.halt.now();
  }
  release(key: IdempotencyRecordKey, owner: string, subject: string | null): Promise<boolean> {
    return this.pass(() => this.inner.release(key, owner, subject));
  }
  forget(key: IdempotencyRecordKey, owner: string): Promise<boolean> {
    return this.pass(() => this.inner.forget(key, owner));
  }
  purgeSubject(subject: string): Promise<number> {
    return this.pass(() => this.inner.purgeSubject(subject));
  }
  sweep(createdBefore: number, limit: number): Promise<number> {
    return this.pass(() => this.inner.sweep(createdBefore, limit));
  }
  get(key: IdempotencyRecordKey): Promise<IdempotencyRecord | null> {
    return this.inner.get(key);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The event store of a process whose first append to an account stream dies (`before` it is written) or fails (`after`). */
class FailingEventStore extends ForwardingEventStore {
  /** The stream the append was for. */
  stream: string | null = null;
  constructor(
    inner: EventStore,
    private readonly how: { halt: Halt; when: 'before' } | { when: 'after' },
  ) {
    super(inner);
  }
  override async appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.stream !== null || !stream.startsWith('account-')) return this.inner.appendToStream(stream, events, expected);
    this.stream = stream;
    if (this.how.when === 'before') return this.how.halt.now();
    await this.inner.appendToStream(stream, events, expected);
    // Written, but the process does not learn it (the connection broke, say): the request fails with a 500.
    throw new Error('the connection to the event store broke after the append');
  }
}

/** The account.created events in the files: how many accounts exist, whatever any read model says. */
async function accountsCreated(dataDir: string): Promise<string[]> {
  const services = await openServices(dataDir, { access: 'read-only' });
  try {
    return (await services.eventStore.readAll(START, 100_000)).filter((e) => e.type === ACCOUNT_CREATED).map((e) => e.data.account_id as string);
  } finally {
    await services.close();
  }
}

/** A clock past the dead attempt's lease: its retry may take the key over. */
const afterTheLease: Clock = { now: () => new Date(Date.now() + IDEMPOTENCY_DEFAULTS.leaseMs + 1000) };

describe('A create with Idempotency-Key whose process dies', () => {
  let dataDir: string;
  const apps: TestApp[] = [];
  beforeEach(() => {
    dataDir = tempDataDir();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    removeDir(dataDir);
  });

  const send = (t: TestApp, key: string) =>
    t.http().post(ACCOUNTS).set('X-Api-Key', t.key).set('Idempotency-Key', key).send({ data: { type: 'account', attributes: ATTRIBUTES } });

  /** The first attempt, sent and left hanging once its process has "died"; the connection is then dropped, as a client's timeout would. */
  async function dies(t: TestApp, key: string, halt: Halt) {
    const pending = send(t, key);
    const answered = pending.then(
      () => 'answered',
      () => 'dropped',
    );
    expect(await Promise.race([halt.reached.then(() => 'halted'), answered])).toBe('halted');
    pending.abort();
  }

  it('between the append and keeping its answer: the retry answers with the account it made, and makes no other', async () => {
    const halt = new Halt();
    const first = await startApp({ dataDir, services: { decorate: { idempotencyStore: (inner) => new DyingIdempotencyStore(inner, halt) } } });
    apps.push(first);
    const key = randomUUID();
    await dies(first, key, halt);
    const made = await accountsCreated(dataDir);
    expect(made).toHaveLength(1);

    // A retry while the dead attempt's lease still runs is told to wait; once it has run out, it is answered.
    const restarted = await startApp({ dataDir, key: first.key });
    apps.push(restarted);
    await send(restarted, key).expect(409);
    const later = await startApp({ dataDir, key: first.key, clock: afterTheLease });
    apps.push(later);
    const retry = await send(later, key).expect(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.data.id).toBe(made[0]);
    expect(retry.body.data.attributes).toMatchObject({ person: { name: { first: 'Ottoline', last: 'Vance' } }, contact: { email: 'ottoline@example.com' } });
    expect(await accountsCreated(dataDir)).toEqual(made);
    // And the answer is kept now: the next retry is a plain replay.
    expect((await send(later, key).expect(201)).body).toEqual(retry.body);
  });

  it('between recording the account id and the append: the retry makes the account under that id, once', async () => {
    const halt = new Halt();
    let store!: FailingEventStore;
    const first = await startApp({ dataDir, services: { decorate: { eventStore: (inner) => (store = new FailingEventStore(inner, { halt, when: 'before' })) } } });
    apps.push(first);
    const key = randomUUID();
    await dies(first, key, halt);
    expect(await accountsCreated(dataDir)).toEqual([]);

    const later = await startApp({ dataDir, key: first.key, clock: afterTheLease });
    apps.push(later);
    const retry = await send(later, key).expect(201);
    expect(`account-${retry.body.data.id}`).toBe(store.stream);
    expect(await accountsCreated(dataDir)).toEqual([retry.body.data.id]);
  });

  it('before the append, with an external_id another create then took: the retry answers 409 naming that account, and makes none', async () => {
    const halt = new Halt();
    let store!: FailingEventStore;
    const first = await startApp({ dataDir, services: { decorate: { eventStore: (inner) => (store = new FailingEventStore(inner, { halt, when: 'before' })) } } });
    apps.push(first);
    const key = randomUUID();
    const attributes = { ...ATTRIBUTES, external_id: 'crashed-claim' };
    const pending = first.http().post(ACCOUNTS).set('X-Api-Key', first.key).set('Idempotency-Key', key).send({ data: { type: 'account', attributes } });
    pending.then(() => undefined, () => undefined);
    await halt.reached;
    pending.abort();

    // Another create of that external_id finds the dead attempt's claim, fences its account id and takes the id.
    const later = await startApp({ dataDir, key: first.key, clock: afterTheLease });
    apps.push(later);
    const other = await later.create(attributes).expect(201);
    expect(`account-${other.body.data.id}`).not.toBe(store.stream);
    // The retry resumes with the fenced id, starts over under a new one, and finds the external_id taken.
    const retry = await later.http().post(ACCOUNTS).set('X-Api-Key', later.key).set('Idempotency-Key', key).send({ data: { type: 'account', attributes } }).expect(409);
    expect(retry.body.errors[0]).toMatchObject({ code: 'external_id_taken', meta: { account_id: other.body.data.id } });
    expect(await accountsCreated(dataDir)).toEqual([other.body.data.id]);
  });

  it('when the append is written but the request fails (500): the key is not kept, and the retry answers with that account at once', async () => {
    let store!: FailingEventStore;
    const first = await startApp({ dataDir, services: { decorate: { eventStore: (inner) => (store = new FailingEventStore(inner, { when: 'after' })) } } });
    apps.push(first);
    const key = randomUUID();
    await send(first, key).expect(500);
    const made = await accountsCreated(dataDir);
    expect(made.map((id) => `account-${id}`)).toEqual([store.stream]);
    const retry = await send(first, key).expect(201);
    expect(retry.body.data.id).toBe(made[0]);
    expect(await accountsCreated(dataDir)).toEqual(made);
  });
});
