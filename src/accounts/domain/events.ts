import { Tenant } from '../../kernel/tenant';
import { AccountStatus, EntityType, PERSONAL_FIELDS, PersonalData, WritableField } from './account';

// Event type names are stable strings, stored forever: never derive them from class names.
export const ACCOUNT_CREATED = 'account.created';
export const ACCOUNT_UPDATED = 'account.updated';
export const ACCOUNT_STATUS_CHANGED = 'account.status_changed';
export const ACCOUNT_REDACTED = 'account.redacted';
export const ACCOUNT_SESSION_LINKED = 'account.session_linked';
export const ACCOUNT_SESSION_UNLINKED = 'account.session_unlinked';
export const ACCOUNT_DOCUMENT_LINKED = 'account.document_linked';
export const ACCOUNT_DOCUMENT_UNLINKED = 'account.document_unlinked';
// Fences written by an external_id claim that found another request's claim abandoned (see
// application/external-id-reservations.ts). They change nothing, but move the stream past the
// revision the abandoned write expected, so it can never land.
export const ACCOUNT_CREATION_ABANDONED = 'account.creation_abandoned';
export const ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED = 'account.external_id_change_abandoned';

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

/** Who changed it is in the event's metadata (API key, request id), as for every event. */
export interface AccountStatusChanged {
  type: typeof ACCOUNT_STATUS_CHANGED;
  data: {
    account_id: string;
    from: AccountStatus;
    to: AccountStatus;
    /** Free text may name a person, so it is sealed like personal data and erased with it. */
    reason?: string | null;
    changed_at: string;
  };
}

/** Personal data is erased: the account's data key is destroyed with this event. */
export interface AccountRedacted {
  type: typeof ACCOUNT_REDACTED;
  data: {
    account_id: string;
    redacted_at: string;
  };
}

// One event per id linked or unlinked: the trail names each session or document on its own.
// The ids are other services' identifiers, not personal data: nothing here is sealed.

export interface AccountSessionLinked {
  type: typeof ACCOUNT_SESSION_LINKED;
  data: { account_id: string; session_id: string; linked_at: string };
}

export interface AccountSessionUnlinked {
  type: typeof ACCOUNT_SESSION_UNLINKED;
  data: { account_id: string; session_id: string; unlinked_at: string };
}

export interface AccountDocumentLinked {
  type: typeof ACCOUNT_DOCUMENT_LINKED;
  data: { account_id: string; document_id: string; linked_at: string };
}

export interface AccountDocumentUnlinked {
  type: typeof ACCOUNT_DOCUMENT_UNLINKED;
  data: { account_id: string; document_id: string; unlinked_at: string };
}

/** The account's first event was never written, and now never can be: its id names no account. */
export interface AccountCreationAbandoned {
  type: typeof ACCOUNT_CREATION_ABANDONED;
  data: { account_id: string };
}

/** A PATCH that had claimed a new external_id never wrote it; the account is unchanged. */
export interface AccountExternalIdChangeAbandoned {
  type: typeof ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED;
  data: { account_id: string };
}

export type AccountEvent =
  | AccountCreated
  | AccountUpdated
  | AccountStatusChanged
  | AccountRedacted
  | AccountSessionLinked
  | AccountSessionUnlinked
  | AccountDocumentLinked
  | AccountDocumentUnlinked
  | AccountCreationAbandoned
  | AccountExternalIdChangeAbandoned;
export type AccountEventType = AccountEvent['type'];
export const ACCOUNT_EVENT_TYPES: readonly AccountEventType[] = [
  ACCOUNT_CREATED,
  ACCOUNT_UPDATED,
  ACCOUNT_STATUS_CHANGED,
  ACCOUNT_REDACTED,
  ACCOUNT_SESSION_LINKED,
  ACCOUNT_SESSION_UNLINKED,
  ACCOUNT_DOCUMENT_LINKED,
  ACCOUNT_DOCUMENT_UNLINKED,
  ACCOUNT_CREATION_ABANDONED,
  ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED,
];

/** Event data fields that are stored only sealed with the account's data key. */
export const SEALED_FIELDS = [...PERSONAL_FIELDS, 'reason'] as const;

export function isAccountEventType(type: string): type is AccountEventType {
  return (ACCOUNT_EVENT_TYPES as readonly string[]).includes(type);
}
