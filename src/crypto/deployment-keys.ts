import { hkdfSync } from 'node:crypto';
import { decrypt, encrypt } from './aes-gcm';
import { DataKeyStore } from './data-key-store.port';
import { dataKeyWrappingKey } from './data-key-wrapping';
import { deriveSubkey, MasterKeyMismatch } from './master-key';

// Two keys belong to the deployment for its whole life rather than to one master key: the audit key,
// whose seals must verify for as long as the events exist, and the key that names external-id
// reservation streams, whose names must never change (an existing id's stream would be lost, and
// the id taken twice). Both were first derived from the master key; they are kept in the data-key
// store wrapped under the current master key, so a master-key rotation re-wraps them like any data
// key and they stay what they were (docs/STORAGE.md, "What rotation keeps").

/** HKDF label of the audit key: it shares nothing with the keys derived by HMAC below. */
export const AUDIT_KEY_INFO = 'identity-accounts/audit-seal/v1';
/** HMAC label of the key that names reservation streams. */
export const EXTERNAL_ID_NAMING_PURPOSE = 'external-id-reservation';

export function deriveAuditKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), AUDIT_KEY_INFO, 32));
}

export interface DeploymentKeys {
  /** Seals every event (EventChain). */
  auditSeal: Buffer;
  /** Names the external-id reservation streams (ExternalIdReservations). */
  externalIdNaming: Buffer;
}

type DeploymentKeyName = keyof DeploymentKeys;

interface DeploymentKeyKind {
  /** Its name in the store: a stable string, stored forever. */
  stored: string;
  /** How it is made from the first master key the data was written with. */
  derive: (masterKey: Buffer) => Buffer;
}

export const DEPLOYMENT_KEYS: Record<DeploymentKeyName, DeploymentKeyKind> = {
  auditSeal: { stored: 'audit-seal', derive: deriveAuditKey },
  externalIdNaming: { stored: 'external-id-naming', derive: (masterKey) => deriveSubkey(masterKey, EXTERNAL_ID_NAMING_PURPOSE) },
};

const NAMES = Object.keys(DEPLOYMENT_KEYS) as DeploymentKeyName[];
/** Every stored name, for the rotation. */
export const DEPLOYMENT_KEY_PURPOSES = NAMES.map((name) => DEPLOYMENT_KEYS[name].stored);

// Wrapped like data keys, by the master key's data-key wrapping subkey; the purpose as associated
// data keeps a deployment key from ever opening as an account's data key, or as the other one.
const associatedData = (purpose: string) => `deployment-key:${purpose}`;

export function wrapDeploymentKey(masterKey: Buffer, purpose: string, key: Buffer): Buffer {
  return encrypt(dataKeyWrappingKey(masterKey), key, associatedData(purpose));
}

/** The key, or null when this master key did not wrap it (GCM authenticates). */
export function tryUnwrapDeploymentKey(masterKey: Buffer, purpose: string, wrapped: Buffer): Buffer | null {
  try {
    return decrypt(dataKeyWrappingKey(masterKey), wrapped, associatedData(purpose));
  } catch {
    return null;
  }
}

/**
 * The deployment's keys, opened with the (already verified) master key. None stored yet means the
 * master key was never rotated: they are derived from it, as they always were, and, unless
 * read-only, stored wrapped under it. Two processes storing at once store the same keys.
 */
export async function loadDeploymentKeys(masterKey: Buffer, store: DataKeyStore, options: { store: boolean }): Promise<DeploymentKeys> {
  const keys = {} as DeploymentKeys;
  for (const name of NAMES) {
    const { stored: purpose, derive } = DEPLOYMENT_KEYS[name];
    let wrapped = await store.deploymentKey(purpose);
    if (!wrapped) {
      if (!options.store) {
        keys[name] = derive(masterKey);
        continue;
      }
      wrapped = await store.keepDeploymentKey(purpose, wrapDeploymentKey(masterKey, purpose, derive(masterKey)));
    }
    const key = tryUnwrapDeploymentKey(masterKey, purpose, wrapped);
    if (!key) throw new MasterKeyMismatch(`The stored ${purpose} key does not open with this master key: the data-key store was changed by hand, or restored from another deployment`);
    keys[name] = key;
  }
  return keys;
}
