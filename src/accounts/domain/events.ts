import { Tenant } from '../../kernel/tenant';
import { EntityType, PersonalData, WritableField } from './account';

// Event type names are stable strings, stored forever: never derive them from class names.
export const ACCOUNT_CREATED = 'account.created';
export const ACCOUNT_UPDATED = 'account.updated';

export interface AccountCreated {
  type: typeof ACCOUNT_CREATED;
  data: {
    account_id: string;
    tenant: Tenant;
    entity_type: EntityType;
    external_id: string | null;
    created_at: string;
  } & PersonalData;
}

/** Only the changed attributes are present; `changed` names them (kept readable after redaction). */
export interface AccountUpdated {
  type: typeof ACCOUNT_UPDATED;
  data: {
    account_id: string;
    changed: WritableField[];
    external_id?: string | null;
    updated_at: string;
  } & Partial<PersonalData>;
}

export type AccountEvent = AccountCreated | AccountUpdated;
export type AccountEventType = AccountEvent['type'];
export const ACCOUNT_EVENT_TYPES: readonly AccountEventType[] = [ACCOUNT_CREATED, ACCOUNT_UPDATED];

export function isAccountEventType(type: string): type is AccountEventType {
  return (ACCOUNT_EVENT_TYPES as readonly string[]).includes(type);
}
