import { PersonalDataCipher } from '../../crypto/personal-data-cipher';
import { ACCOUNT_CREATED, AccountEvent, isAccountEventType, SEALED_FIELDS } from '../domain/events';
import { AccountRedacted } from '../domain/rules';

/**
 * Turns domain events into stored event data and back. Personal fields (and free-text reasons)
 * never reach the store in plaintext: they travel together in one `personal` value sealed with the
 * account's data key.
 * After redaction the key is gone and decoding yields the event without its personal fields.
 */
export class AccountEventCodec {
  constructor(private readonly cipher: PersonalDataCipher) {}

  async encode(accountId: string, event: AccountEvent): Promise<{ type: string; data: Record<string, unknown> }> {
    const data: Record<string, unknown> = { ...event.data };
    const personal: Record<string, unknown> = {};
    for (const field of SEALED_FIELDS) {
      if (data[field] === undefined) continue;
      personal[field] = data[field];
      delete data[field];
    }
    if (Object.keys(personal).length > 0) {
      const sealed = await this.cipher.seal(accountId, personal, { createKey: event.type === ACCOUNT_CREATED });
      if (sealed === null) throw AccountRedacted();
      data.personal = sealed;
    }
    return { type: event.type, data };
  }

  async decode(accountId: string, stored: { type: string; data: Record<string, unknown> }): Promise<AccountEvent> {
    if (!isAccountEventType(stored.type)) throw new Error(`Unknown account event type ${stored.type}`);
    const { personal, ...data } = stored.data;
    const opened = typeof personal === 'string' ? ((await this.cipher.open(accountId, personal)) as object | undefined) : undefined;
    return { type: stored.type, data: { ...data, ...opened } } as AccountEvent;
  }
}
