import { createHash, randomBytes } from 'node:crypto';
import { Environment, ENVIRONMENTS, Tenant } from '../kernel/tenant';

export const SCOPES = ['accounts:read', 'accounts:write', 'audit:read'] as const;
export type Scope = (typeof SCOPES)[number];

/** What is stored of a key: never the key itself, only its hash. */
export interface ApiKeyRecord {
  id: string;
  tenant: Tenant;
  scopes: Scope[];
  /** The first characters of the secret, so an operator can tell keys apart in `keys list`. */
  hint: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

const KEY_PATTERN = /^sk_(production|staging)_([A-Za-z0-9]{32,128})$/;

/** `sk_<environment>_<secret>`; the secret is 256 random bits. */
export function generateApiKey(environment: Environment): string {
  return `sk_${environment}_${randomBytes(32).toString('hex')}`;
}

export function parseApiKey(key: string): { environment: Environment; secret: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match ? { environment: match[1] as Environment, secret: match[2] } : null;
}

/** Keys carry 256 bits of entropy, so a plain SHA-256 is a safe one-way lookup hash. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}
