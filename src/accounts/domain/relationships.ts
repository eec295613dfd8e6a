// An account links the verification sessions and documents that make up a person's identity
// profile (docs/API.md). They are other services' resources: the account keeps their ids only,
// newest last, and no personal data (the ids stay after redaction, as every relationship does).

export type Relationship = 'sessions' | 'documents';
export const RELATIONSHIPS: readonly Relationship[] = ['sessions', 'documents'];

/** The JSON:API type of each relationship's members. */
export const RELATED_TYPE: Record<Relationship, 'session' | 'document'> = { sessions: 'session', documents: 'document' };

/** How many of each an account may link. */
export const MAX_LINKED = 100;

const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const PREFIX: Record<Relationship, string> = { sessions: 'sess_', documents: 'doc_' };
/** The ids a request may name (a UUID in any letter case). */
export const RELATED_ID_PATTERN: Record<Relationship, RegExp> = {
  sessions: new RegExp(`^(?:${PREFIX.sessions}${ULID}|${UUID})$`),
  documents: new RegExp(`^(?:${PREFIX.documents}${ULID}|${UUID})$`),
};

/** What a related id looks like, for details that say what is allowed. */
export const relatedIdRule = (relationship: Relationship) => `${PREFIX[relationship]} followed by a ULID (26 characters), or a UUID`;

/**
 * The id as the account keeps it, or null when it cannot name a session (a document). A UUID is
 * case-insensitive (RFC 9562), so it is kept in lower case: one id, one spelling.
 */
export function normalizedRelatedId(relationship: Relationship, id: string): string | null {
  if (!RELATED_ID_PATTERN[relationship].test(id)) return null;
  return id.startsWith(PREFIX[relationship]) ? id : id.toLowerCase();
}
