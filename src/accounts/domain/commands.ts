import { Tenant } from '../../kernel/tenant';
import { AccountStatus } from './account';
import { Relationship } from './relationships';
import { AccountInput } from './shapes';

// Commands carry everything decide needs, `now` included, so deciding is a pure function.

export interface CreateAccount {
  kind: 'CreateAccount';
  account_id: string;
  tenant: Tenant;
  attributes: AccountInput & { entity_type: string };
  now: string;
}

export interface UpdateAccount {
  kind: 'UpdateAccount';
  attributes: AccountInput;
  now: string;
}

export interface ChangeStatus {
  kind: 'ChangeStatus';
  status: AccountStatus;
  reason: string | null;
  now: string;
}

export interface RedactAccount {
  kind: 'RedactAccount';
  now: string;
}

/** Links sessions (documents) to the account; ids it links already are left as they are. */
export interface LinkRelated {
  kind: 'LinkRelated';
  relationship: Relationship;
  ids: string[];
  now: string;
}

/** Unlinks sessions (documents) from the account; ids it does not link are passed over. */
export interface UnlinkRelated {
  kind: 'UnlinkRelated';
  relationship: Relationship;
  ids: string[];
  now: string;
}

export type AccountCommand = CreateAccount | UpdateAccount | ChangeStatus | RedactAccount | LinkRelated | UnlinkRelated;
