import { ACCOUNT_STATUSES, AccountStatus } from '../../src/accounts/domain/account';
import {
  ACCOUNT_CREATED,
  ACCOUNT_REDACTED,
  ACCOUNT_STATUS_CHANGED,
  AccountCreated,
  AccountEvent,
} from '../../src/accounts/domain/events';
import { fold } from '../../src/accounts/domain/evolve';
import { given } from '../support/given-when-then';

const ID = 'acc_01HQ00000000000000000000AA';
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-02T00:00:00Z';

const created: AccountCreated = {
  type: ACCOUNT_CREATED,
  data: {
    account_id: ID,
    tenant: { organization_id: 'acme', environment: 'production' },
    entity_type: 'person',
    external_id: 'user-1',
    person: { name: { first: 'Jane', middle: null, last: 'Doe' }, birth_date: '1990-05-15', sex: 'female' },
    business: null,
    contact: { email: 'jane@example.com', phone: '+1234567890' },
    address: null,
    identity_numbers: [{ number: '1', issuing_country_code: 'US', class: 'ssn', created_at: T0, updated_at: null }],
    created_at: T0,
  },
};

const statusChanged = (from: AccountStatus, to: AccountStatus, reason: string | null = null): AccountEvent => ({
  type: ACCOUNT_STATUS_CHANGED,
  data: { account_id: ID, from, to, reason, changed_at: T1 },
});
const redacted: AccountEvent = { type: ACCOUNT_REDACTED, data: { account_id: ID, redacted_at: T1 } };

/** An account history that leaves it in `status`. */
const historyAt = (status: AccountStatus): AccountEvent[] => (status === 'pending' ? [created] : [created, statusChanged('pending', status)]);

const changeStatus = (status: AccountStatus, reason: string | null = null) => ({ kind: 'ChangeStatus' as const, status, reason, now: T1 });

// SPEC §3.4, row by row: from → the statuses it may move to.
const ALLOWED: Record<AccountStatus, AccountStatus[]> = {
  pending: ['active', 'inactive', 'suspended'],
  active: ['inactive', 'suspended'],
  suspended: ['active', 'inactive'],
  inactive: ['active', 'pending'],
};

describe('Account status lifecycle', () => {
  const pairs = ACCOUNT_STATUSES.flatMap((from) => ACCOUNT_STATUSES.map((to) => [from, to] as const));

  it.each(pairs)('%s → %s', (from, to) => {
    const when = given(...historyAt(from)).when(changeStatus(to, 'policy review'));
    if (from === to) when.then([]);
    else if (ALLOWED[from].includes(to)) when.then([statusChanged(from, to, 'policy review')]);
    else when.thenRefused('invalid_status_transition');
  });

  it('evolves status and updated_at', () => {
    expect(fold([created, statusChanged('pending', 'suspended')])).toMatchObject({ status: 'suspended', updated_at: T1 });
  });

  it('refuses a status change of an account that does not exist', () => {
    given().when(changeStatus('active')).thenRefused('account_not_found');
  });
});

describe('Account redaction', () => {
  it('records account.redacted', () => {
    given(created).when({ kind: 'RedactAccount', now: T1 }).then([redacted]);
  });

  it('records nothing the second time', () => {
    given(created, redacted).when({ kind: 'RedactAccount', now: T1 }).then([]);
  });

  it('erases personal data and keeps id, status, external_id, entity_type, timestamps and relationships', () => {
    const state = fold([created, statusChanged('pending', 'active'), redacted]);
    expect(state).toEqual({
      id: ID,
      tenant: created.data.tenant,
      status: 'active',
      external_id: 'user-1',
      entity_type: 'person',
      person: null,
      business: null,
      contact: null,
      address: null,
      identity_numbers: [],
      sessions: [],
      documents: [],
      created_at: T0,
      updated_at: T1,
      redacted_at: T1,
    });
  });

  it('freezes the account: PATCH and every status change are refused', () => {
    given(created, redacted).when({ kind: 'UpdateAccount', attributes: { external_id: 'x' }, now: T1 }).thenRefused('account_redacted');
    for (const status of ACCOUNT_STATUSES) given(created, redacted).when(changeStatus(status)).thenRefused('account_redacted');
  });

  it('refuses to redact an account that does not exist', () => {
    given().when({ kind: 'RedactAccount', now: T1 }).thenRefused('account_not_found');
  });
});
