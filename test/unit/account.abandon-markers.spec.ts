import { AccountEventCodec } from '../../src/accounts/application/account-event-codec';
import { AccountCreated, ACCOUNT_CREATED, ACCOUNT_CREATION_ABANDONED, ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED } from '../../src/accounts/domain/events';
import { evolve, fold } from '../../src/accounts/domain/evolve';
import { PersonalDataCipher } from '../../src/crypto/personal-data-cipher';
import { given } from '../support/given-when-then';

const ID = 'acc_01HQ00000000000000000000AA';
const TENANT = { organization_id: 'acme', environment: 'staging' as const };
const created: AccountCreated = {
  type: ACCOUNT_CREATED,
  data: {
    account_id: ID, tenant: TENANT, entity_type: 'person', external_id: 'user-1', created_at: '2026-01-01T00:00:00Z',
    person: null, business: null, contact: null, address: null, identity_numbers: [],
  },
};
const creationAbandoned = { type: ACCOUNT_CREATION_ABANDONED, data: { account_id: ID } } as const;
const changeAbandoned = { type: ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED, data: { account_id: ID } } as const;

describe('Fences written by external_id claims', () => {
  it('are read back from a stream by the codec (as repository and projection read them), with no key needed', async () => {
    // A fence seals nothing, so decoding one must never reach the cipher: not even after redaction.
    const noCipher = new Proxy({}, { get: () => { throw new Error('decoding a fence used the cipher'); } }) as PersonalDataCipher;
    const codec = new AccountEventCodec(noCipher);
    for (const fence of [creationAbandoned, changeAbandoned]) {
      await expect(codec.decode(ID, { type: fence.type, data: { ...fence.data } })).resolves.toEqual(fence);
    }
    // What a type the account does not know gets instead:
    await expect(codec.decode(ID, { type: 'account.fenced', data: { account_id: ID } })).rejects.toThrow('Unknown account event type account.fenced');
  });

  it('fold a stream holding only the creation fence to no account', () => {
    expect(evolve(null, creationAbandoned)).toBeNull();
    expect(fold([creationAbandoned])).toBeNull();
  });

  it('change nothing on an account', () => {
    const account = fold([created]);
    expect(fold([created, changeAbandoned])).toEqual(account);
    expect(fold([created, changeAbandoned])).toMatchObject({ external_id: 'user-1', updated_at: null });
  });

  it('leave a fenced id unusable: there is no account to update', () => {
    given(creationAbandoned).when({ kind: 'UpdateAccount', attributes: { external_id: 'x' }, now: '2026-01-02T00:00:00Z' }).thenRefused('account_not_found');
  });
});
