import { decrypt, encrypt } from './aes-gcm';
import { deriveSubkey } from './master-key';

/** The subkey of the master key that wraps data keys, and nothing else. */
export const dataKeyWrappingKey = (masterKey: Buffer): Buffer => deriveSubkey(masterKey, 'data-key-wrapping');

// The account id as associated data: a wrapped key copied onto another account fails to unwrap.
const associatedData = (accountId: string) => `data-key:${accountId}`;

export function wrapDataKey(wrappingKey: Buffer, accountId: string, dataKey: Buffer): Buffer {
  return encrypt(wrappingKey, dataKey, associatedData(accountId));
}

/** Throws when the key was not wrapped by this wrapping key for this account (GCM authenticates). */
export function unwrapDataKey(wrappingKey: Buffer, accountId: string, wrapped: Buffer): Buffer {
  return decrypt(wrappingKey, wrapped, associatedData(accountId));
}

/** The data key, or null when this wrapping key did not wrap it. */
export function tryUnwrapDataKey(wrappingKey: Buffer, accountId: string, wrapped: Buffer): Buffer | null {
  try {
    return unwrapDataKey(wrappingKey, accountId, wrapped);
  } catch {
    return null;
  }
}
