// Races between writers of one account, made to happen deterministically.
//
// In one process on synchronous SQLite, concurrent HTTP requests never interleave between load and
// append, so the e2e "race" tests cannot reach the WrongExpectedRevision path. Here the loser's
// event store is a test double that, once, right before the loser's append to a chosen stream,
// runs another real command to completion: the loser's append then meets the revision check
// exactly as it would if a request of another process had written in between.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCOUNT_STREAM_PREFIX, accountStream } from '../../src/accounts/application/account-repository';
import { ChangeStatusCommand, ChangeStatusHandler } from '../../src/accounts/application/change-status';
import { CreateAccountCommand, CreateAccountHandler } from '../../src/accounts/application/create-account';
import { RESERVATION_STREAM_PREFIX } from '../../src/accounts/application/external-id-reservations';
import { RedactAccountCommand, RedactAccountHandler } from '../../src/accounts/application/redact-account';
import { StaleRevision, WriteResult } from '../../src/accounts/application/run-account-command';
import { UpdateAccountCommand, UpdateAccountHandler } from '../../src/accounts/application/update-account';
import { Account, AccountStatus } from '../../src/accounts/domain/account';
import { AccountRuleViolation } from '../../src/accounts/domain/errors';
import { AccountInput } from '../../src/accounts/domain/shapes';
import { Actor } from '../../src/kernel/tenant';
import {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  Position,
  START,
  RecordedEvent,
  WrongExpectedRevision,
} from '../../src/storage/event-store.port';
import { plaintextHits } from '../support/files';
import { openServices } from '../support/services';

type Outcome = 'appended' | 'wrong_expected_revision' | 'failed';

/** What the interloper did: it ran (once), and resolved or threw. */
interface Race {
  /** Throws if the interloper never ran or failed; otherwise its result. */
  interloperResult(): unknown;
}

/**
 * The EventStore port over the real SQLite store. `beforeNextAppend` arms it once: the next append
 * to a stream the predicate accepts first awaits the interloper (another real command), then goes
 * to the real store with the revision its caller decided on. Every append is logged with its outcome.
 */
class RacingEventStore extends EventStore {
  /** The appends of the commands under test; the interloper's own appends (if it shares this store) are left out. */
  readonly appends: { stream: string; expected: ExpectedRevision; outcome: Outcome }[] = [];
  private interloping = false;
  private armed: { when: (stream: string) => boolean; interloper: () => Promise<unknown>; fired: (result: { value?: unknown; error?: unknown }) => void } | null = null;

  constructor(private readonly inner: EventStore) {
    super();
  }

  beforeNextAppend(when: (stream: string) => boolean, interloper: () => Promise<unknown>): Race {
    let outcome: { value?: unknown; error?: unknown } | null = null;
    this.armed = { when, interloper, fired: (result) => (outcome = result) };
    return {
      interloperResult: () => {
        if (!outcome) throw new Error('The race never happened: no append matched, so the interloper never ran');
        if ('error' in outcome) throw outcome.error;
        return outcome.value;
      },
    };
  }

  override async appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const armed = this.armed;
    if (armed && armed.when(stream)) {
      this.armed = null; // once; and the interloper may append through this store too
      this.interloping = true;
      try {
        armed.fired({ value: await armed.interloper() });
      } catch (error) {
        armed.fired({ error });
      } finally {
        this.interloping = false;
      }
    }
    const log = (outcome: Outcome) => this.interloping || this.appends.push({ stream, expected, outcome });
    try {
      const result = await this.inner.appendToStream(stream, events, expected);
      log('appended');
      return result;
    } catch (error) {
      log(error instanceof WrongExpectedRevision ? 'wrong_expected_revision' : 'failed');
      throw error;
    }
  }

  /** The outcomes of the appends to one stream, in order. */
  outcomesOf(stream: string): Outcome[] {
    return this.appends.filter((a) => a.stream === stream).map((a) => a.outcome);
  }

  override readStream(stream: string): Promise<RecordedEvent[]> {
    return this.inner.readStream(stream);
  }
  override readAll(after: Position, maxCount: number): Promise<RecordedEvent[]> {
    return this.inner.readAll(after, maxCount);
  }
  override headPosition(): Promise<Position> {
    return this.inner.headPosition();
  }
  override onAppended(listener: (position: Position) => void): () => void {
    return this.inner.onAppended(listener);
  }
  override close(): Promise<void> {
    return this.inner.close();
  }
}

/** The write side of the service as the composition root builds it, on its own connections to dataDir: one "process". */
async function openProcess(dataDir: string) {
  let store!: RacingEventStore;
  const services = await openServices(dataDir, { decorate: { eventStore: (inner) => (store = new RacingEventStore(inner)) } });
  const { repository, reservations, eventCodec: codec, ids, clock } = services;
  const handlers = {
    create: new CreateAccountHandler(repository, reservations, ids, clock),
    update: new UpdateAccountHandler(repository, reservations, clock),
    changeStatus: new ChangeStatusHandler(repository, clock),
    redact: new RedactAccountHandler(repository, services.erasure, clock),
  };
  return {
    services,
    store,
    codec,
    repository,
    reservations,
    create: (attributes: AccountInput & { entity_type: string }) => handlers.create.execute(new CreateAccountCommand(nextActor(), attributes)),
    update: (id: string, attributes: AccountInput, ifMatch?: bigint) => handlers.update.execute(new UpdateAccountCommand(nextActor(), id, attributes, ifMatch)),
    changeStatus: (id: string, status: AccountStatus, reason: string | null = null) =>
      handlers.changeStatus.execute(new ChangeStatusCommand(nextActor(), id, status, reason)),
    redact: (id: string) => handlers.redact.execute(new RedactAccountCommand(nextActor(), id)),
    /** The account as a fold of its stream, and the stream's revision. */
    load: async (id: string) => {
      const loaded = await repository.load(id);
      return { state: loaded.state, revision: loaded.revision };
    },
    /** The stream's events as this process decodes them (personal fields only while the key exists). */
    decodedEvents: async (id: string) => Promise.all((await store.readStream(accountStream(id))).map((e) => codec.decode(id, e))),
  };
}
type Process = Awaited<ReturnType<typeof openProcess>>;

const TENANT = { organization_id: 'acme', environment: 'staging' } as const;
let requests = 0;
function nextActor(): Actor {
  const request_id = `req_race_${++requests}`;
  return { tenant: TENANT, api_key_id: 'key_race', request_id, correlation_id: request_id };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the command succeeded');
}

function expectRuleViolation(error: unknown, code: string, meta?: Record<string, unknown>) {
  expect(error).toBeInstanceOf(AccountRuleViolation);
  expect((error as AccountRuleViolation).code).toBe(code);
  if (meta) expect((error as AccountRuleViolation).meta).toEqual(meta);
}

const REDACTED = { person: null, business: null, contact: null, address: null, identity_numbers: [], redacted_at: expect.any(String) };

describe('Concurrent writes to one account', () => {
  let dataDir: string;
  /** The process whose command loses the race: its store runs the interloper before its append. */
  let loser: Process;
  /** Another process on the same files, where the interloper's request is served. */
  let other: Process;
  const opened: Process[] = [];
  const open = async () => {
    const process = await openProcess(dataDir);
    opened.push(process);
    return process;
  };
  const isStreamOf = (id: string) => (stream: string) => stream === accountStream(id);

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'identity-accounts-race-'));
    loser = await open();
    other = await open();
  });

  afterEach(async () => {
    for (const process of opened.splice(0)) await process.services.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const createPerson = async (attributes: AccountInput = {}) => {
    const created = await other.create({
      entity_type: 'person',
      person: { name: { first: 'Jane', last: 'Doe' }, birth_date: '1990-05-15' },
      contact: { email: 'jane@example.com', phone: '+1234567890' },
      ...attributes,
    });
    expect(created.revision).toBe(0n);
    return created.accountId;
  };

  describe('a PATCH that loses the race', () => {
    it('is decided again on the fresh state: both changes are kept and the revision moves by 2', async () => {
      const id = await createPerson();
      // Both touch `contact`: a retry that re-sent its stale decision would put the old phone back.
      const race = loser.store.beforeNextAppend(isStreamOf(id), () => other.update(id, { contact: { phone: '+19995550100' } }));

      const written = await loser.update(id, { contact: { email: 'jane.new@example.com' } });

      expect((race.interloperResult() as WriteResult).revision).toBe(1n);
      expect(loser.store.outcomesOf(accountStream(id))).toEqual(['wrong_expected_revision', 'appended']);
      expect(written.revision).toBe(2n);
      for (const reader of [loser, other, await open()]) {
        const { state, revision } = await reader.load(id);
        expect(revision).toBe(2n);
        expect(state).toMatchObject({ contact: { email: 'jane.new@example.com', phone: '+19995550100' }, person: { name: { first: 'Jane', last: 'Doe' } } });
      }
      const events = await other.decodedEvents(id);
      expect(events.map((e) => e.type)).toEqual(['account.created', 'account.updated', 'account.updated']);
      expect(events[2].data).toMatchObject({ changed: ['contact'], contact: { email: 'jane.new@example.com', phone: '+19995550100' } });
    });

    it('with If-Match is refused as stale (412) and nothing of it is stored', async () => {
      const id = await createPerson();
      const race = loser.store.beforeNextAppend(isStreamOf(id), () => other.update(id, { contact: { phone: '+19995550100' } }));

      const error = await rejectionOf(loser.update(id, { contact: { email: 'ifmatch.loser@example.com' } }, 0n));

      expect(error).toBeInstanceOf(StaleRevision);
      expect(error).toMatchObject({ expected: 0n, actual: 1n });
      race.interloperResult();
      expect(loser.store.outcomesOf(accountStream(id))).toEqual(['wrong_expected_revision']);
      const { state, revision } = await (await open()).load(id);
      expect(revision).toBe(1n);
      expect(state?.contact).toEqual({ email: 'jane@example.com', phone: '+19995550100' });
      const events = await other.decodedEvents(id);
      expect(events.map((e) => e.type)).toEqual(['account.created', 'account.updated']);
      expect(JSON.stringify(events)).not.toContain('ifmatch.loser@example.com');
    });

    it('of external_id, racing another PATCH of external_id: the account ends with the retried one and the other ids are free', async () => {
      const id = await createPerson({ external_id: 'race-ext-old' });
      loser.store.beforeNextAppend(isStreamOf(id), () => other.update(id, { external_id: 'race-ext-theirs' }));

      const written = await loser.update(id, { external_id: 'race-ext-mine' });

      expect(written.revision).toBe(2n);
      expect(loser.store.outcomesOf(accountStream(id))).toEqual(['wrong_expected_revision', 'appended']);
      expect((await (await open()).load(id)).state?.external_id).toBe('race-ext-mine');
      expect(await other.reservations.holderOf(TENANT, 'race-ext-mine')).toBe(id);
      // Neither the id it started with nor the one the interloper wrote stays locked to it.
      const a = await other.create({ entity_type: 'person', external_id: 'race-ext-old' });
      const b = await other.create({ entity_type: 'person', external_id: 'race-ext-theirs' });
      expect([(await other.load(a.accountId)).state?.external_id, (await other.load(b.accountId)).state?.external_id]).toEqual(['race-ext-old', 'race-ext-theirs']);
      expectRuleViolation(await rejectionOf(other.create({ entity_type: 'person', external_id: 'race-ext-mine' })), 'external_id_taken', { account_id: id });
    });
  });

  // The interloper's redaction is served by another process (whose key cache is not the loser's)
  // or by the loser's own process (which shares its cipher and cache).
  describe.each([
    ['another process', () => other],
    ['the same process', () => loser],
  ])('a PATCH with new personal values that loses the race against a redaction in %s', (_, redactor) => {
    const NEW = { first: 'Zebulon-Racewinner', email: 'zebulon.racewinner@late-patch.example', line1: '77 Lostrace Lane' };

    it('is refused as account_redacted, stores none of its values, and the account stays erased', async () => {
      const id = await createPerson({ identity_numbers: [{ number: 'SSN-604-18-3357', class: 'ssn', issuing_country_code: 'US' }] });
      expect(await loser.services.dataKeys.get(id)).not.toBeNull();
      // The loser has folded (and cached the key of) the account before the race.
      expect((await loser.load(id)).state?.contact?.email).toBe('jane@example.com');
      const race = loser.store.beforeNextAppend(isStreamOf(id), () => redactor().redact(id));

      const error = await rejectionOf(loser.update(id, { person: { name: { first: NEW.first } }, contact: { email: NEW.email }, address: { line1: NEW.line1 } }));

      expectRuleViolation(error, 'account_redacted');
      expect((race.interloperResult() as WriteResult).revision).toBe(1n);
      expect(loser.store.outcomesOf(accountStream(id))).toEqual(['wrong_expected_revision']);
      for (const reader of [loser, other, await open()]) {
        const { state, revision } = await reader.load(id);
        expect(revision).toBe(1n);
        expect(state).toMatchObject({ ...REDACTED, id, status: 'pending' });
      }
      expect((await other.decodedEvents(id)).map((e) => e.type)).toEqual(['account.created', 'account.redacted']);
      expect(await other.services.dataKeys.get(id)).toBeNull();
      expect(await loser.services.dataKeys.get(id)).toBeNull();
      // Neither the PATCH's values nor the ones the account had are anywhere in plaintext.
      expect(plaintextHits(dataDir, [...Object.values(NEW), 'SSN-604-18-3357', 'jane@example.com', '+1234567890'])).toEqual([]);
    });
  });

  it('a redaction that loses the race against a PATCH is redone on the fresh state and erases the PATCH\'s values too', async () => {
    const NEW = { first: 'Ottoline-Slipstream', email: 'ottoline.slipstream@won-race.example' };
    const id = await createPerson();
    const race = loser.store.beforeNextAppend(isStreamOf(id), () => other.update(id, { person: { name: { first: NEW.first } }, contact: { email: NEW.email } }));

    const written = await loser.redact(id);

    expect((race.interloperResult() as WriteResult).revision).toBe(1n);
    expect(loser.store.outcomesOf(accountStream(id))).toEqual(['wrong_expected_revision', 'appended']);
    expect(written.revision).toBe(2n);
    expect(await other.services.dataKeys.get(id)).toBeNull();
    const fresh = await open();
    expect((await fresh.load(id)).state).toMatchObject(REDACTED);
    const events = await fresh.decodedEvents(id);
    expect(events.map((e) => e.type)).toEqual(['account.created', 'account.updated', 'account.redacted']);
    // The PATCH's event is still there (events are immutable) but its sealed values can no longer be opened.
    expect(events[1].data).toEqual({ account_id: id, changed: ['person', 'contact'], updated_at: expect.any(String) });
    expect(plaintextHits(dataDir, Object.values(NEW))).toEqual([]);
  });

  describe('a status change that loses the race against another status change is decided again on the new status (SPEC §3.4)', () => {
    const cases: {
      title: string;
      mine: AccountStatus;
      theirs: AccountStatus;
      expected: { recorded: [AccountStatus, AccountStatus] | null; refused?: Record<string, unknown>; status: AccountStatus; revision: bigint };
    }[] = [
      // pending → active loses to pending → suspended; suspended → active is allowed.
      { title: 'records suspended → active', mine: 'active', theirs: 'suspended', expected: { recorded: ['suspended', 'active'], status: 'active', revision: 2n } },
      // pending → suspended loses to pending → inactive; inactive → suspended is not allowed.
      { title: 'refuses inactive → suspended', mine: 'suspended', theirs: 'inactive', expected: { recorded: null, refused: { from: 'inactive', to: 'suspended' }, status: 'inactive', revision: 1n } },
      // Both want active: the loser finds it done and records nothing.
      { title: 'records nothing when the account already has the status', mine: 'active', theirs: 'active', expected: { recorded: null, status: 'active', revision: 1n } },
    ];

    it.each(cases)('pending → $mine racing pending → $theirs: $title', async ({ mine, theirs, expected }) => {
      const id = await createPerson();
      const race = loser.store.beforeNextAppend(isStreamOf(id), () => other.changeStatus(id, theirs));

      const attempt = loser.changeStatus(id, mine);

      if (expected.refused) expectRuleViolation(await rejectionOf(attempt), 'invalid_status_transition', expected.refused);
      else expect((await attempt).revision).toBe(expected.revision);
      expect((race.interloperResult() as WriteResult).revision).toBe(1n);
      // The loser's append did meet the other write.
      expect(loser.store.outcomesOf(accountStream(id))[0]).toBe('wrong_expected_revision');
      const { state, revision } = await (await open()).load(id);
      expect(state?.status).toBe(expected.status);
      expect(revision).toBe(expected.revision);
      const transitions = (await other.decodedEvents(id)).filter((e) => e.type === 'account.status_changed').map((e) => [e.data.from, e.data.to]);
      expect(transitions).toEqual([['pending', theirs], ...(expected.recorded ? [expected.recorded] : [])]);
    });
  });

  describe('two creates claiming one external_id', () => {
    /** Every account any stream folds to, keyed by id. */
    const allAccounts = async (reader: Process): Promise<Account[]> => {
      const streams = new Set((await reader.store.readAll(START, 1_000_000)).map((e) => e.stream).filter((s) => s.startsWith(ACCOUNT_STREAM_PREFIX)));
      const accounts: Account[] = [];
      for (const stream of streams) {
        const { state } = await reader.load(stream.slice(ACCOUNT_STREAM_PREFIX.length));
        if (state) accounts.push(state);
      }
      return accounts;
    };

    async function expectOneHolder(winner: WriteResult, loserError: unknown) {
      expectRuleViolation(loserError, 'external_id_taken', { account_id: winner.accountId });
      const accounts = await allAccounts(await open());
      expect(accounts.map((a) => [a.id, a.external_id])).toEqual([[winner.accountId, 'contested']]);
      expect(await (await open()).reservations.holderOf(TENANT, 'contested')).toBe(winner.accountId);
    }

    it('racing at the claim: the loser\'s claim meets the winner\'s and it is refused, naming the holder', async () => {
      const race = loser.store.beforeNextAppend((s) => s.startsWith(RESERVATION_STREAM_PREFIX), () => other.create({ entity_type: 'person', external_id: 'contested' }));

      const error = await rejectionOf(loser.create({ entity_type: 'business', external_id: 'contested' }));

      const winner = race.interloperResult() as WriteResult;
      expect(loser.store.appends.map((a) => [a.stream.startsWith(RESERVATION_STREAM_PREFIX) ? 'reservation' : 'account', a.outcome])).toEqual([
        ['reservation', 'wrong_expected_revision'],
      ]);
      await expectOneHolder(winner, error);
    });

    it('racing after the loser\'s claim, before its write: the winner fences the pending create, the loser is refused naming the holder', async () => {
      // The interloper finds the loser's claim pending: it waits the grace (2 s), then fences the loser's id.
      const race = loser.store.beforeNextAppend((s) => s.startsWith(ACCOUNT_STREAM_PREFIX), () => other.create({ entity_type: 'person', external_id: 'contested' }));

      const error = await rejectionOf(loser.create({ entity_type: 'business', external_id: 'contested' }));

      const winner = race.interloperResult() as WriteResult;
      const fenced = loser.store.appends.find((a) => a.stream.startsWith(ACCOUNT_STREAM_PREFIX))!;
      expect(fenced.outcome).toBe('wrong_expected_revision');
      expect((await other.store.readStream(fenced.stream)).map((e) => e.type)).toEqual(['account.creation_abandoned']);
      await expectOneHolder(winner, error);
    });
  });
});
