import { PersonalDataCipher } from '../../crypto/personal-data-cipher';
import { PERSONAL_FIELDS } from '../domain/account';
import { ACCOUNT_CREATED, ACCOUNT_STATUS_CHANGED, ACCOUNT_UPDATED, AccountEvent, isAccountEventType, SEALED_FIELDS } from '../domain/events';
import { AccountRedacted } from '../domain/rules';

/** What a reviewer reads in place of a personal value that can no longer (or may no longer) be opened. */
export const REDACTED_VALUE = '[redacted]';

type StoredEventData = { type: string; data: Record<string, unknown> };

/** An event as a reviewer reads it: the domain event to fold, and its fields for display. */
export interface ReviewedEvent {
  event: AccountEvent;
  /** The event's fields; sealed ones opened, or each "[redacted]" once the account is redacted. */
  changes: Record<string, unknown>;
}

/**
 * Turns domain events into stored event data and back. Personal fields (and free-text reasons)
 * never reach the store in plaintext: they travel together in one `personal` value sealed with the
 * account's data key; their names alone stay readable in `sealed_fields`.
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
      data.sealed_fields = Object.keys(personal);
    }
    return { type: event.type, data };
  }

  async decode(accountId: string, stored: StoredEventData): Promise<AccountEvent> {
    return (await this.opened(accountId, stored, false)).event;
  }

  /** The event without its sealed fields, opening nothing: what `decode` yields once the key is destroyed. */
  decodeUnopened(stored: StoredEventData): AccountEvent {
    if (!isAccountEventType(stored.type)) throw new Error(`Unknown account event type ${stored.type}`);
    const { personal: _personal, sealed_fields: _names, ...data } = stored.data;
    return { type: stored.type, data } as AccountEvent;
  }

  /**
   * Decodes for a reviewer. `redacted`: the account is redacted now, so nothing is opened even if
   * its key still exists (a redaction whose shredding has not finished yet).
   */
  async review(accountId: string, stored: StoredEventData, options: { redacted: boolean }): Promise<ReviewedEvent> {
    const { event, unopened } = await this.opened(accountId, stored, options.redacted);
    const hidden = unopened ? sealedFieldNames(stored) : [];
    return { event, changes: { ...event.data, ...Object.fromEntries(hidden.map((name) => [name, REDACTED_VALUE])) } };
  }

  /** The event with its personal data opened; `unopened` when it has some that stays sealed. */
  private async opened(accountId: string, stored: StoredEventData, redacted: boolean): Promise<{ event: AccountEvent; unopened: boolean }> {
    const event = this.decodeUnopened(stored);
    const { personal } = stored.data;
    const opened = typeof personal === 'string' && !redacted ? ((await this.cipher.open(accountId, personal)) as Record<string, unknown> | undefined) : undefined;
    if (opened) Object.assign(event.data, opened);
    return { event, unopened: typeof personal === 'string' && opened === undefined };
  }
}

/** The names of the sealed fields: recorded in clear since sealed_fields exists, derived from the event's shape before. */
function sealedFieldNames(stored: StoredEventData): string[] {
  const { data } = stored;
  if (Array.isArray(data.sealed_fields)) return data.sealed_fields.filter((name): name is string => typeof name === 'string');
  switch (stored.type) {
    case ACCOUNT_CREATED:
      return [...PERSONAL_FIELDS];
    case ACCOUNT_UPDATED:
      return Array.isArray(data.changed) ? data.changed.filter((name) => (SEALED_FIELDS as readonly unknown[]).includes(name)) : [];
    case ACCOUNT_STATUS_CHANGED:
      return ['reason'];
    default:
      return ['personal'];
  }
}
