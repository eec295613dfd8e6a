/** Per-account data keys, stored only wrapped (encrypted) by the master key. */
export abstract class DataKeyStore {
  abstract get(accountId: string): Promise<Buffer | null>;
  /** Stores the wrapped key unless the account has one already; returns the one that is stored. */
  abstract putIfAbsent(accountId: string, wrappedKey: Buffer): Promise<Buffer>;
  /** Destroys the key for good: what it encrypted can never be read again. */
  abstract destroy(accountId: string): Promise<void>;
  /** Stores the master key's check value unless one is stored; returns the one that is stored. */
  abstract keepMasterKeyCheck(check: string): Promise<string>;
  /** The stored check value, or null when none is stored yet; writes nothing. */
  abstract masterKeyCheck(): Promise<string | null>;
  abstract close(): Promise<void>;
}
