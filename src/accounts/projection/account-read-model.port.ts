import { Tenant } from '../../kernel/tenant';
import { Account, PersonalData } from '../domain/account';

/** An account as the read model keeps it: personal data only sealed with the account's data key. */
export interface AccountRow extends Omit<Account, keyof PersonalData> {
  /** PersonalData sealed by PersonalDataCipher; null once redacted. */
  sealed_personal: string | null;
  /** The stream revision this row reflects: events at or below it are already applied. */
  revision: bigint;
}

export abstract class AccountReadModel {
  /** The global position of the last event applied. */
  abstract checkpoint(): Promise<bigint>;
  abstract get(tenant: Tenant, id: string): Promise<AccountRow | null>;
  abstract getMany(ids: string[]): Promise<AccountRow[]>;
  /**
   * Writes the rows and moves the checkpoint from `from` to `to` in one transaction. Returns false,
   * writing nothing, when the checkpoint is no longer `from` (another process applied the batch).
   */
  abstract commit(rows: AccountRow[], from: bigint, to: bigint): Promise<boolean>;
}
