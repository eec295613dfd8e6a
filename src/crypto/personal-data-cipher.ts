import { randomBytes } from 'node:crypto';
import { decrypt, encrypt } from './aes-gcm';
import { DataKeyStore } from './data-key-store.port';
import { dataKeyWrappingKey, unwrapDataKey, wrapDataKey } from './data-key-wrapping';

const FORMAT = 'v1';
const CACHE_LIMIT = 10_000;

/**
 * Seals personal data with the account's own data key. Destroying that key (redaction) makes
 * every sealed copy unreadable at once: events, read models, anything else (crypto-shredding).
 */
export class PersonalDataCipher {
  // Unwrapped keys of recently used accounts; Map keeps insertion order, so the oldest go first.
  private readonly cache = new Map<string, Buffer>();
  // Accounts shredded by this process: a lookup that raced the shred must not cache the key again.
  private readonly shredded = new Set<string>();
  // Opens that missed the cache and are reading the store: opens of the same account join the read.
  private readonly lookups = new Map<string, Promise<Buffer | null>>();

  private readonly wrappingKey: Buffer;

  constructor(
    masterKey: Buffer,
    private readonly keys: DataKeyStore,
  ) {
    this.wrappingKey = dataKeyWrappingKey(masterKey);
  }

  /**
   * Seals with the account's key. Only an account's first event may create the key: any later
   * seal finding no key means the account was redacted, and it answers null rather than
   * resurrecting a key for data that must stay erased.
   */
  async seal(accountId: string, value: unknown, options: { createKey: boolean }): Promise<string | null> {
    // A write asks the store, not only this process's cache: another process may have shredded the key.
    const key = await this.dataKey(accountId, { create: options.createKey, confirm: true });
    if (!key) return null;
    const sealed = encrypt(key, Buffer.from(JSON.stringify(value), 'utf8'), accountId);
    return `${FORMAT}.${sealed.toString('base64url')}`;
  }

  /** The sealed value, or undefined when the account's key has been destroyed. */
  async open(accountId: string, sealed: string): Promise<unknown> {
    const key = await this.dataKey(accountId, { create: false, confirm: false });
    if (!key) return undefined;
    const [format, body] = sealed.split('.');
    if (format !== FORMAT || !body) throw new Error(`Unknown sealed-value format for account ${accountId}`);
    return JSON.parse(decrypt(key, Buffer.from(body, 'base64url'), accountId).toString('utf8'));
  }

  async shred(accountId: string): Promise<void> {
    this.shredded.add(accountId);
    this.cache.delete(accountId);
    await this.keys.destroy(accountId);
  }

  private async dataKey(accountId: string, options: { create: boolean; confirm: boolean }): Promise<Buffer | null> {
    if (this.shredded.has(accountId)) return null;
    const cached = this.cache.get(accountId);
    if (cached && !options.confirm) return cached;
    if (options.create || options.confirm) return this.fetchKey(accountId, options.create, cached);
    // Opens of one account arriving together (a projection batch opens many at once) share one
    // read of the store and one unwrap, instead of each missing the cache and doing both.
    let lookup = this.lookups.get(accountId);
    if (!lookup) {
      const started = this.fetchKey(accountId, false, undefined).finally(() => {
        if (this.lookups.get(accountId) === started) this.lookups.delete(accountId);
      });
      this.lookups.set(accountId, started);
      lookup = started;
    }
    return lookup;
  }

  private async fetchKey(accountId: string, create: boolean, cached: Buffer | undefined): Promise<Buffer | null> {
    // putIfAbsent answers the key already stored, if any: one call to the store either way.
    const wrapped = create
      ? await this.keys.putIfAbsent(accountId, wrapDataKey(this.wrappingKey, accountId, randomBytes(32)))
      : await this.keys.get(accountId);
    // Shredded meanwhile, here (the set) or elsewhere (the store): forget it.
    if (!wrapped || this.shredded.has(accountId)) {
      this.cache.delete(accountId);
      return null;
    }
    if (cached) return cached;
    const key = unwrapDataKey(this.wrappingKey, accountId, wrapped);
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(accountId, key);
    return key;
  }
}
