// The projection opens only the events whose sealed values its rows keep (account-projection.ts,
// `decode`): an event whose personal fields a later event of the same batch sets again, or that
// seals only a status change's reason, is folded unopened. What this pins: the rows are those of
// the plain fold, which opens every event (the domain's `fold` over the events as written), for any
// events, any interleaving of accounts and any batch size; and the opening is in fact skipped.
import fc from 'fast-check';
import { Services } from '../../src/composition-root';
import { Account, PERSONAL_FIELDS, WRITABLE_FIELDS } from '../../src/accounts/domain/account';
import { fold } from '../../src/accounts/domain/evolve';
import {
  ACCOUNT_CREATED,
  ACCOUNT_REDACTED,
  ACCOUNT_SESSION_LINKED,
  ACCOUNT_STATUS_CHANGED,
  ACCOUNT_UPDATED,
  AccountEvent,
} from '../../src/accounts/domain/events';
import { AccountProjection } from '../../src/accounts/projection/account-projection';
import { AccountRow } from '../../src/accounts/projection/account-read-model.port';
import { Actor } from '../../src/kernel/tenant';
import { removeDir, tempDataDir } from '../support/app-harness';
import { openServices } from '../support/services';

const TENANT = { organization_id: 'acme', environment: 'staging' } as const;
const actor: Actor = { tenant: TENANT, api_key_id: 'key_opens', request_id: 'req_opens', correlation_id: 'req_opens' };
const AT = '2026-01-01T00:00:00Z';

/** Any value of the field's kind: evolve copies it as it is. */
const personalValue = (field: string): fc.Arbitrary<unknown> =>
  field === 'identity_numbers'
    ? fc.array(fc.record({ number: fc.string({ maxLength: 6 }), class: fc.constantFrom('ssn', 'passport') }), { maxLength: 2 })
    : fc.oneof(fc.constant(null), fc.record({ value: fc.string({ maxLength: 6 }) }));

/** What follows an account's creation, before any redaction: anything evolve folds. */
const change = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.subarray([...WRITABLE_FIELDS], { minLength: 1 }).chain((changed) =>
      fc
        .tuple(...changed.map((field) => (field === 'external_id' ? fc.option(fc.string({ maxLength: 6 })) : personalValue(field))))
        .map((values) => ({ kind: 'update' as const, changed, values })),
    ),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('status' as const), reason: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('session' as const), session: fc.constantFrom('ses_1', 'ses_2') }) },
);
type Change = typeof change extends fc.Arbitrary<infer T> ? T : never;

/** After a redaction, only what the domain still allows: nothing personal. */
const afterRedaction = fc.oneof(
  fc.record({ kind: fc.constant('status' as const), reason: fc.constant(undefined) }),
  fc.record({ kind: fc.constant('session' as const), session: fc.constantFrom('ses_1', 'ses_2') }),
);

const accountHistory = fc.record({
  // identity_numbers always, as decide writes it: a creation that seals nothing would make no data key.
  created: fc.record(
    Object.fromEntries(PERSONAL_FIELDS.map((field) => [field, field === 'identity_numbers' ? personalValue(field) : fc.option(personalValue(field), { nil: undefined, freq: 4 })])),
  ),
  changes: fc.array(change, { maxLength: 12 }),
  redacted: fc.boolean(),
  afterwards: fc.array(afterRedaction, { maxLength: 3 }),
});

type History = typeof accountHistory extends fc.Arbitrary<infer T> ? T : never;

function eventsOf(accountId: string, history: History): AccountEvent[] {
  const events: AccountEvent[] = [
    {
      type: ACCOUNT_CREATED,
      data: { account_id: accountId, tenant: TENANT, entity_type: 'person', external_id: `ext-${accountId}`, created_at: AT, ...history.created },
    } as AccountEvent,
  ];
  const toEvent = (c: Change): AccountEvent => {
    switch (c.kind) {
      case 'update':
        return {
          type: ACCOUNT_UPDATED,
          data: { account_id: accountId, changed: c.changed, updated_at: AT, ...Object.fromEntries(c.changed.map((field, i) => [field, c.values[i]])) },
        } as AccountEvent;
      case 'status':
        return { type: ACCOUNT_STATUS_CHANGED, data: { account_id: accountId, from: 'pending', to: 'active', changed_at: AT, ...(c.reason === undefined ? {} : { reason: c.reason }) } };
      case 'session':
        return { type: ACCOUNT_SESSION_LINKED, data: { account_id: accountId, session_id: c.session, linked_at: AT } };
    }
  };
  events.push(...history.changes.map(toEvent));
  if (history.redacted) events.push({ type: ACCOUNT_REDACTED, data: { account_id: accountId, redacted_at: AT } }, ...history.afterwards.map(toEvent));
  return events;
}

describe('The projection folds unopened the events whose sealed values its rows do not keep', () => {
  let dataDir: string;
  let services: Services;
  let runs = 0;

  beforeAll(async () => {
    dataDir = tempDataDir();
    services = await openServices(dataDir);
  });
  afterAll(async () => {
    await services.close();
    removeDir(dataDir);
  });

  /** Appends each account's events `chunk` at a time: first one chunk of each account picked in `order`, then what is left. */
  async function append(streams: { accountId: string; events: AccountEvent[] }[], order: number[], chunk: number) {
    const left = streams.map(({ events }) => [...events]);
    const appendChunk = async (i: number) => {
      const loaded = await services.repository.load(streams[i].accountId);
      await services.repository.append(loaded, left[i].splice(0, chunk), actor);
    };
    for (const pick of order) if (left[pick].length > 0) await appendChunk(pick);
    for (const i of streams.keys()) while (left[i].length > 0) await appendChunk(i);
  }

  /** Catches a fresh projection up, with this batch size, as a rebuild does. */
  async function project(batchSize: number) {
    const projection = new AccountProjection(services.eventStore, services.readModel, services.eventCodec, services.rowCodec, {
      batchSize,
      pollIntervalMs: 10,
      onRedacted: (accountId) => services.erasure.erase(accountId),
    });
    await projection.catchUp();
  }

  /** A row as comparable: its clear columns, and its sealed personal data opened as the JSON it holds. */
  async function comparable(row: AccountRow | undefined) {
    if (!row) return row;
    const { sealed_personal, ...clear } = row;
    return { ...clear, personal: sealed_personal === null ? null : JSON.stringify(await services.cipher.open(row.id, sealed_personal)) };
  }

  it('writes the rows of the plain fold, which opens every event', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(accountHistory, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(2), { maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 12 }),
        async (histories, order, chunk, batchSize) => {
          const run = ++runs;
          const streams = histories.map((history, i) => {
            const accountId = `acc_opens_${run}_${i}`;
            return { accountId, events: eventsOf(accountId, history) };
          });
          await append(streams, order.filter((pick) => pick < streams.length), chunk);
          await project(batchSize);

          for (const { accountId, events } of streams) {
            const plain = fold(events) as Account;
            // The plain fold's row, sealed as the projection seals (empty personal data: no sealed value).
            const expected = await services.rowCodec.toRow(plain, BigInt(events.length - 1));
            const [row] = await services.readModel.getMany([accountId]);
            expect(await comparable(row)).toEqual(await comparable(expected));
            expect((await services.rowCodec.toAccount(row)) as Account).toEqual(plain);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('opens, of an account changed many times in one batch, its creation and its last update only', async () => {
    const accountId = 'acc_opens_many';
    const events = eventsOf(accountId, {
      created: { person: { value: 'Jane' }, contact: { value: 'first' } },
      changes: Array.from({ length: 20 }, (_, i): Change => (i % 2 ? { kind: 'status', reason: 'a reason' } : { kind: 'update', changed: ['contact'], values: [{ value: `c${i}` }] })),
      redacted: false,
      afterwards: [],
    });
    await append([{ accountId, events }], [], events.length);
    const opens = jest.spyOn(services.cipher, 'open');
    try {
      await project(500);
      const sealedOpened = opens.mock.calls.filter(([id]) => id === accountId).length;
      // The creation (person stays) and the last contact update; no status change's reason.
      expect(sealedOpened).toBe(2);
    } finally {
      opens.mockRestore();
    }
    const [row] = await services.readModel.getMany([accountId]);
    expect(await services.rowCodec.toAccount(row)).toEqual(fold(events));
  });
});
