import { ACCOUNT_CREATED, ACCOUNT_UPDATED, AccountCreated } from '../../src/accounts/domain/events';
import { fold } from '../../src/accounts/domain/evolve';
import { given } from '../support/given-when-then';

const TENANT = { organization_id: 'acme', environment: 'staging' as const };
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-02T00:00:00Z';
const ID = 'acc_01HQ00000000000000000000AA';

const created = (overrides: Partial<AccountCreated['data']> = {}): AccountCreated => ({
  type: ACCOUNT_CREATED,
  data: {
    account_id: ID,
    tenant: TENANT,
    entity_type: 'person',
    external_id: 'user-1',
    person: { name: { first: 'Jane', middle: null, last: 'Doe' }, birth_date: '1990-05-15', sex: null },
    business: null,
    contact: { email: 'jane@example.com', phone: '+1234567890' },
    address: null,
    identity_numbers: [],
    created_at: T0,
    ...overrides,
  },
});

const update = (attributes: object) => ({ kind: 'UpdateAccount' as const, attributes, now: T1 });

describe('Account aggregate', () => {
  describe('CreateAccount', () => {
    const create = (attributes: object) => ({ kind: 'CreateAccount' as const, account_id: ID, tenant: TENANT, attributes: attributes as never, now: T0 });

    it('records account.created with every shape completed by nulls', () => {
      given().when(create({ external_id: 'user-1', entity_type: 'person', person: { name: { first: 'Jane', last: 'Doe' }, birth_date: '1990-05-15' }, contact: { email: 'jane@example.com', phone: '+1234567890' } }))
        .then([created()]);
    });

    it('accepts the external_id-only example', () => {
      given().when(create({ external_id: 'usr_abc123', entity_type: 'person' })).then([
        created({ external_id: 'usr_abc123', person: null, contact: null }),
      ]);
    });

    it('stamps identity numbers with the creation time', () => {
      given().when(create({ entity_type: 'person', identity_numbers: [{ number: '1', class: 'ssn' }] })).then([
        created({ external_id: null, person: null, contact: null, identity_numbers: [{ number: '1', issuing_country_code: null, class: 'ssn', created_at: T0, updated_at: null }] }),
      ]);
    });

    it('refuses a business object on a person and a person object on a business', () => {
      given().when(create({ entity_type: 'person', business: { legal_name: 'Acme' } })).thenInvalid(['business']);
      given().when(create({ entity_type: 'business', person: { sex: 'male' } })).thenInvalid(['person']);
    });

    it('refuses an entity_type it does not know, or none', () => {
      given().when(create({ entity_type: 'robot' })).thenInvalid(['entity_type']);
      given().when(create({})).thenInvalid(['entity_type']);
    });

    it('refuses to create an account that exists', () => {
      given(created()).when(create({ entity_type: 'person' })).thenRefused('account_already_exists');
    });

    it('starts pending', () => {
      expect(fold([created()])?.status).toBe('pending');
    });
  });

  describe('UpdateAccount', () => {
    it('records only the changed attribute, merged (RFC 7396)', () => {
      given(created()).when(update({ contact: { email: 'new-email@example.com' } })).then([
        { type: ACCOUNT_UPDATED, data: { account_id: ID, changed: ['contact'], contact: { email: 'new-email@example.com', phone: '+1234567890' }, updated_at: T1 } },
      ]);
    });

    it('clears a nested value with an explicit null and keeps absent keys', () => {
      given(created()).when(update({ person: { name: { first: null, middle: 'M' } } })).then([
        {
          type: ACCOUNT_UPDATED,
          data: { account_id: ID, changed: ['person'], person: { name: { first: null, middle: 'M', last: 'Doe' }, birth_date: '1990-05-15', sex: null }, updated_at: T1 },
        },
      ]);
    });

    it('clears a whole object with null and changes external_id', () => {
      given(created()).when(update({ contact: null, external_id: 'user-2' })).then([
        { type: ACCOUNT_UPDATED, data: { account_id: ID, changed: ['external_id', 'contact'], external_id: 'user-2', contact: null, updated_at: T1 } },
      ]);
    });

    it('records nothing when nothing changes', () => {
      given(created()).when(update({ contact: { email: 'jane@example.com' }, external_id: 'user-1', entity_type: 'person' })).then([]);
      given(created()).when(update({})).then([]);
    });

    it('replaces identity_numbers whole, keeping created_at of an entry with the same class and country', () => {
      const withNumbers = created({ identity_numbers: [{ number: '1', issuing_country_code: 'US', class: 'ssn', created_at: T0, updated_at: null }] });
      given(withNumbers).when(update({ identity_numbers: [{ number: '2', issuing_country_code: 'US', class: 'ssn' }, { number: 'P', class: 'passport' }] })).then([
        {
          type: ACCOUNT_UPDATED,
          data: {
            account_id: ID,
            changed: ['identity_numbers'],
            identity_numbers: [
              { number: '2', issuing_country_code: 'US', class: 'ssn', created_at: T0, updated_at: T1 },
              { number: 'P', issuing_country_code: null, class: 'passport', created_at: T1, updated_at: null },
            ],
            updated_at: T1,
          },
        },
      ]);
    });

    it('refuses to change entity_type, and a business object on a person', () => {
      given(created()).when(update({ entity_type: 'business', business: { legal_name: 'X' } })).thenInvalid(['entity_type', 'business']);
    });

    it('refuses an account that does not exist', () => {
      given().when(update({ external_id: 'x' })).thenRefused('account_not_found');
    });

    it('evolves into the updated state', () => {
      const state = fold([created(), { type: ACCOUNT_UPDATED, data: { account_id: ID, changed: ['contact'], contact: null, updated_at: T1 } }]);
      expect(state).toMatchObject({ contact: null, updated_at: T1, person: created().data.person });
    });
  });
});
