import {
  ACCOUNT_CREATED,
  ACCOUNT_DOCUMENT_LINKED,
  ACCOUNT_DOCUMENT_UNLINKED,
  ACCOUNT_REDACTED,
  ACCOUNT_SESSION_LINKED,
  ACCOUNT_SESSION_UNLINKED,
  AccountCreated,
  AccountEvent,
} from '../../src/accounts/domain/events';
import { fold } from '../../src/accounts/domain/evolve';
import { MAX_LINKED, normalizedRelatedId, Relationship } from '../../src/accounts/domain/relationships';
import { given } from '../support/given-when-then';

const ID = 'acc_01HQ00000000000000000000AA';
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-02T00:00:00Z';
const S1 = 'sess_01HQ00000000000000000000S1';
const S2 = 'sess_01HQ00000000000000000000S2';
const D1 = 'doc_01HQ00000000000000000000D1';
const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

const created: AccountCreated = {
  type: ACCOUNT_CREATED,
  data: {
    account_id: ID, tenant: { organization_id: 'acme', environment: 'staging' }, entity_type: 'person', external_id: null, created_at: T0,
    person: null, business: null, contact: null, address: null, identity_numbers: [],
  },
};
const sessionLinked = (session_id: string, at = T1): AccountEvent => ({ type: ACCOUNT_SESSION_LINKED, data: { account_id: ID, session_id, linked_at: at } });
const sessionUnlinked = (session_id: string, at = T1): AccountEvent => ({ type: ACCOUNT_SESSION_UNLINKED, data: { account_id: ID, session_id, unlinked_at: at } });
const documentLinked = (document_id: string): AccountEvent => ({ type: ACCOUNT_DOCUMENT_LINKED, data: { account_id: ID, document_id, linked_at: T1 } });
const documentUnlinked = (document_id: string): AccountEvent => ({ type: ACCOUNT_DOCUMENT_UNLINKED, data: { account_id: ID, document_id, unlinked_at: T1 } });
const redacted: AccountEvent = { type: ACCOUNT_REDACTED, data: { account_id: ID, redacted_at: T1 } };

const link = (relationship: Relationship, ...ids: string[]) => ({ kind: 'LinkRelated' as const, relationship, ids, now: T1 });
const unlink = (relationship: Relationship, ...ids: string[]) => ({ kind: 'UnlinkRelated' as const, relationship, ids, now: T1 });

/** Ids as the service makes them for tests: prefix + a ULID of digits. */
const sessionId = (n: number) => `sess_01HQ${String(n).padStart(22, '0')}`;

describe('Linking sessions and documents', () => {
  it('records one event per id linked, in the order given', () => {
    given(created).when(link('sessions', S1, S2)).then([sessionLinked(S1), sessionLinked(S2)]);
    given(created).when(link('documents', D1, UUID)).then([documentLinked(D1), documentLinked(UUID)]);
  });

  it('records nothing for an id linked already, and links an id named twice once', () => {
    given(created, sessionLinked(S1)).when(link('sessions', S1)).then([]);
    given(created, sessionLinked(S1)).when(link('sessions', S2, S1, S2)).then([sessionLinked(S2)]);
  });

  it('keeps a UUID in lower case, so that one id has one spelling', () => {
    given(created).when(link('documents', UUID.toUpperCase())).then([documentLinked(UUID)]);
    given(created, documentLinked(UUID)).when(link('documents', UUID.toUpperCase())).then([]);
    expect(normalizedRelatedId('sessions', S1)).toBe(S1);
  });

  it('refuses an id that names no session (document)', () => {
    for (const bad of ['sess_short', D1, `sess_${'0'.repeat(25)}I`, 'x', '', `${UUID}0`]) given(created).when(link('sessions', bad)).thenRefused('invalid_related_id');
    given(created).when(link('documents', S1)).thenRefused('invalid_related_id');
    given(created).when(unlink('documents', 'doc_nope')).thenRefused('invalid_related_id');
  });

  it(`links at most ${MAX_LINKED} of each`, () => {
    const full = Array.from({ length: MAX_LINKED }, (_, n) => sessionLinked(sessionId(n)));
    given(created, ...full.slice(1)).when(link('sessions', sessionId(0))).then([full[0]]);
    given(created, ...full).when(link('sessions', sessionId(MAX_LINKED))).thenRefused('relationship_limit_exceeded');
    // Already linked ones do not count twice; the documents have a limit of their own.
    given(created, ...full).when(link('sessions', sessionId(5))).then([]);
    given(created, ...full).when(link('documents', D1)).then([documentLinked(D1)]);
    given(created).when(link('sessions', ...Array.from({ length: MAX_LINKED + 1 }, (_, n) => sessionId(n)))).thenRefused('relationship_limit_exceeded');
  });

  it('unlinks the ids it links and passes over the others', () => {
    given(created, sessionLinked(S1), sessionLinked(S2)).when(unlink('sessions', S2, 'sess_01HQ00000000000000000000S9')).then([sessionUnlinked(S2)]);
    given(created).when(unlink('sessions', S1)).then([]);
    given(created, documentLinked(D1)).when(unlink('documents', D1, D1)).then([documentUnlinked(D1)]);
  });

  it('refuses to link or unlink on a redacted account, or one that does not exist', () => {
    given(created, sessionLinked(S1), redacted).when(link('sessions', S2)).thenRefused('account_redacted');
    given(created, sessionLinked(S1), redacted).when(unlink('sessions', S1)).thenRefused('account_redacted');
    // Frozen means frozen: even a request that would change nothing is refused, as a PATCH is.
    given(created, sessionLinked(S1), redacted).when(link('sessions', S1)).thenRefused('account_redacted');
    given().when(link('documents', D1)).thenRefused('account_not_found');
    given().when(unlink('documents', D1)).thenRefused('account_not_found');
  });

  it('folds to the ids newest last, a relinked id at the end, and moves updated_at', () => {
    const state = fold([created, sessionLinked(S1), sessionLinked(S2), sessionUnlinked(S1), sessionLinked(S1, '2026-01-03T00:00:00Z'), documentLinked(D1)]);
    expect(state).toMatchObject({ sessions: [S2, S1], documents: [D1], updated_at: T1 });
    expect(fold([created, sessionLinked(S1, '2026-01-03T00:00:00Z')])!.updated_at).toBe('2026-01-03T00:00:00Z');
  });

  it('keeps the relationships through redaction', () => {
    expect(fold([created, sessionLinked(S1), documentLinked(D1), redacted])).toMatchObject({ sessions: [S1], documents: [D1], redacted_at: T1 });
  });
});
