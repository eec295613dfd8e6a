/** A data key as stored: wrapped (encrypted) by the master key. */
export interface WrappedDataKey {
  accountId: string;
  wrappedKey: Buffer;
}

export interface Rewrap {
  accountId: string;
  current: Buffer;
  replacement: Buffer;
}

/** Per-account data keys, stored only wrapped (encrypted) by the master key. */
export abstract class DataKeyStore {
  abstract get(accountId: string): Promise<Buffer | null>;
  /** Stores the wrapped key unless the account has one already; returns the one that is stored. */
  abstract putIfAbsent(accountId: string, wrappedKey: Buffer): Promise<Buffer>;
  /** Destroys the key for good: what it encrypted can never be read again. */
  abstract destroy(accountId: string): Promise<void>;
  /** Stores the master key's check value unless one is stored; returns the one that is stored. */
  abstract keepMasterKeyCheck(check: string): Promise<string>;

  // For master-key rotation (rotateMasterKey), which re-wraps every key while the store stays in use.

  /** The stored check value, or null when none is stored. */
  abstract masterKeyCheck(): Promise<string | null>;
  /** Compare-and-set of the check value (expected null: none is stored yet). False, changing nothing, when it is not `expected`. */
  abstract replaceMasterKeyCheck(expected: string | null, replacement: string): Promise<boolean>;
  /** Up to `limit` keys with account ids after `after` ('' for the first), in account-id (byte) order. */
  abstract listWrapped(after: string, limit: number): Promise<WrappedDataKey[]>;
  /**
   * Compare-and-set of wrapped keys, in one transaction: each is replaced only if it is still
   * `current` (not destroyed, nor re-wrapped meanwhile). Returns the account ids replaced.
   */
  abstract rewrap(changes: readonly Rewrap[]): Promise<string[]>;
  /** How many keys are stored. */
  abstract count(): Promise<number>;

  // The deployment's own keys (deployment-keys.ts), wrapped like data keys, one per purpose.

  /** The wrapped key stored for this purpose, or null. */
  abstract deploymentKey(purpose: string): Promise<Buffer | null>;
  /** Stores it unless one is stored for the purpose; returns the one that is stored. */
  abstract keepDeploymentKey(purpose: string, wrappedKey: Buffer): Promise<Buffer>;
  /** Compare-and-set, for rotation: false, changing nothing, when the stored key is not `current`. */
  abstract replaceDeploymentKey(purpose: string, current: Buffer, replacement: Buffer): Promise<boolean>;
  abstract close(): Promise<void>;
}
