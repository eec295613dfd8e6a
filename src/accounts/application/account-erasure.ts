import { PersonalDataCipher } from '../../crypto/personal-data-cipher';

/**
 * What redaction erases besides recording account.redacted: the account's data key
 * (crypto-shredding: every sealed copy, in events, the read model or anywhere else, becomes
 * unreadable at once), then whatever else keeps copies of its personal data and is told to drop
 * them (stored idempotent answers). Idempotent: run again after a crash, it finishes the job.
 */
export class AccountErasure {
  constructor(
    private readonly cipher: PersonalDataCipher,
    private readonly alsoErase: readonly ((accountId: string) => Promise<void>)[] = [],
  ) {}

  async erase(accountId: string): Promise<void> {
    await this.cipher.shred(accountId);
    for (const erase of this.alsoErase) await erase(accountId);
  }
}
