export type Environment = 'production' | 'staging';
export const ENVIRONMENTS: readonly Environment[] = ['production', 'staging'];

/** Accounts are isolated per (organization, environment). */
export interface Tenant {
  organization_id: string;
  environment: Environment;
}

export function sameTenant(a: Tenant, b: Tenant): boolean {
  return a.organization_id === b.organization_id && a.environment === b.environment;
}

/** Who asked for a change: recorded with every event for the audit trail. */
export interface Actor {
  tenant: Tenant;
  api_key_id: string;
  request_id: string;
  /** Ties together everything one client action caused; the request id unless the client sent one. */
  correlation_id: string;
}
