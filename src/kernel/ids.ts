import { randomUUID } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/** The one place identifiers are made, so their formats are stated once. */
export abstract class IdFactory {
  abstract accountId(): string;
  /** Event ids are UUIDs because EventStoreDB requires them. */
  abstract eventId(): string;
  abstract requestId(): string;
  abstract apiKeyId(): string;
}

const ulid = monotonicFactory();

export class RandomIdFactory extends IdFactory {
  accountId(): string {
    return `acc_${ulid()}`;
  }
  eventId(): string {
    return randomUUID();
  }
  requestId(): string {
    return `req_${ulid()}`;
  }
  apiKeyId(): string {
    return `key_${ulid()}`;
  }
}

/** acc_ + 26 Crockford base32 characters; anything else cannot name an account. */
export const ACCOUNT_ID_PATTERN = /^acc_[0-9A-HJKMNP-TV-Z]{26}$/;
