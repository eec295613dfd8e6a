import { Account, NO_PERSONAL_DATA, PERSONAL_FIELDS, PersonalField } from './account';
import {
  ACCOUNT_CREATED,
  ACCOUNT_CREATION_ABANDONED,
  ACCOUNT_DOCUMENT_LINKED,
  ACCOUNT_DOCUMENT_UNLINKED,
  ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED,
  ACCOUNT_REDACTED,
  ACCOUNT_SESSION_LINKED,
  ACCOUNT_SESSION_UNLINKED,
  ACCOUNT_STATUS_CHANGED,
  ACCOUNT_UPDATED,
  AccountEvent,
} from './events';

/**
 * Folds one event into the state. Personal fields may be missing from an event whose data key was
 * destroyed (crypto-shredding); they then read as empty, which is what redaction means.
 */
export function evolve(state: Account | null, event: AccountEvent): Account | null {
  switch (event.type) {
    case ACCOUNT_CREATED: {
      const d = event.data;
      const personal = { ...NO_PERSONAL_DATA };
      for (const field of PERSONAL_FIELDS) if (d[field] !== undefined) Object.assign(personal, { [field]: d[field] });
      return {
        id: d.account_id,
        tenant: d.tenant,
        status: 'pending',
        external_id: d.external_id,
        entity_type: d.entity_type,
        ...personal,
        sessions: [],
        documents: [],
        created_at: d.created_at,
        updated_at: null,
        redacted_at: null,
      };
    }
    case ACCOUNT_UPDATED: {
      if (!state) return state;
      const next: Account = { ...state, updated_at: event.data.updated_at };
      for (const field of event.data.changed) {
        const value = event.data[field];
        if (value !== undefined) Object.assign(next, { [field]: value });
        else if (field !== 'external_id') Object.assign(next, { [field]: NO_PERSONAL_DATA[field] });
      }
      return next;
    }
    case ACCOUNT_STATUS_CHANGED:
      return state && { ...state, status: event.data.to, updated_at: event.data.changed_at };
    case ACCOUNT_REDACTED:
      // Everything but the personal data stays: id, status, external_id, entity_type, timestamps, relationships.
      return state && { ...state, ...NO_PERSONAL_DATA, redacted_at: event.data.redacted_at };
    // Newest last; a link or unlink is a recorded change, so it moves updated_at.
    case ACCOUNT_SESSION_LINKED:
      return state && { ...state, sessions: [...state.sessions.filter((id) => id !== event.data.session_id), event.data.session_id], updated_at: event.data.linked_at };
    case ACCOUNT_SESSION_UNLINKED:
      return state && { ...state, sessions: state.sessions.filter((id) => id !== event.data.session_id), updated_at: event.data.unlinked_at };
    case ACCOUNT_DOCUMENT_LINKED:
      return state && { ...state, documents: [...state.documents.filter((id) => id !== event.data.document_id), event.data.document_id], updated_at: event.data.linked_at };
    case ACCOUNT_DOCUMENT_UNLINKED:
      return state && { ...state, documents: state.documents.filter((id) => id !== event.data.document_id), updated_at: event.data.unlinked_at };
    case ACCOUNT_CREATION_ABANDONED:
    case ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED:
      // Fences only: a stream holding just the first of these folds to no account at all.
      return state;
  }
}

const NO_FIELDS: readonly PersonalField[] = [];

/**
 * The personal fields `evolve` sets from this event, whatever they held before (a creation and a
 * redaction set them all; an update, those it names as changed). Read from the event's clear parts
 * alone: a fold needs an event's sealed values only for the fields no later event sets again.
 */
export function personalFieldsSetBy(event: AccountEvent): readonly PersonalField[] {
  switch (event.type) {
    case ACCOUNT_CREATED:
    case ACCOUNT_REDACTED:
      return PERSONAL_FIELDS;
    case ACCOUNT_UPDATED:
      return event.data.changed.filter((field): field is PersonalField => (PERSONAL_FIELDS as readonly string[]).includes(field));
    default:
      return NO_FIELDS;
  }
}

export function fold(events: Iterable<AccountEvent>, state: Account | null = null): Account | null {
  for (const event of events) state = evolve(state, event);
  return state;
}
