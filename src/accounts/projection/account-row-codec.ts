import { PersonalDataCipher } from '../../crypto/personal-data-cipher';
import { Account, NO_PERSONAL_DATA, PERSONAL_FIELDS, PersonalData } from '../domain/account';
import { AccountRow } from './account-read-model.port';

const isPersonalField = (key: string) => (PERSONAL_FIELDS as readonly string[]).includes(key);

/** Converts between an Account and its read-model row, whose personal data is sealed. */
export class AccountRowCodec {
  constructor(private readonly cipher: PersonalDataCipher) {}

  async toAccount(row: AccountRow): Promise<Account> {
    const { sealed_personal, revision: _revision, ...rest } = row;
    const personal = sealed_personal ? ((await this.cipher.open(row.id, sealed_personal)) as PersonalData | undefined) : undefined;
    return { ...rest, ...(personal ?? NO_PERSONAL_DATA) };
  }

  async toRow(account: Account, revision: bigint): Promise<AccountRow> {
    const personal = Object.fromEntries(Object.entries(account).filter(([key]) => isPersonalField(key)));
    const rest = Object.fromEntries(Object.entries(account).filter(([key]) => !isPersonalField(key)));
    const empty = JSON.stringify(personal) === JSON.stringify(NO_PERSONAL_DATA);
    const sealed = empty ? null : await this.cipher.seal(account.id, personal, { createKey: false });
    return { ...(rest as Omit<AccountRow, 'sealed_personal' | 'revision'>), sealed_personal: sealed, revision };
  }
}
