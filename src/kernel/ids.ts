import { randomBytes, randomUUID } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/** The one place identifiers are made, so their formats are stated once. */
export abstract class IdFactory {
  abstract accountId(): string;
  /** Event ids are UUIDs because EventStoreDB requires them. */
  abstract eventId(): string;
  abstract requestId(): string;
  abstract apiKeyId(): string;
}

/**
 * ulid's own source of randomness asks the system for one byte per character (16 calls per id);
 * this one hands out the bytes of one system call per 4 KiB, the same bytes divided the same way.
 */
function pooledRandom(): () => number {
  let pool = randomBytes(4096);
  let next = 0;
  return () => {
    if (next === pool.length) {
      pool = randomBytes(4096);
      next = 0;
    }
    return pool[next++] / 256;
  };
}

const ulid = monotonicFactory(pooledRandom());

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
