import { JsonApiError } from '../../http/jsonapi-error';
import { Account } from '../domain/account';

/** The one JSON:API shape of an account (docs/API.md): every attribute present, in the contract's order. */
export function accountResource(account: Account) {
  return {
    type: 'account',
    id: account.id,
    attributes: {
      status: account.status,
      external_id: account.external_id,
      entity_type: account.entity_type,
      person: account.person,
      business: account.business,
      contact: account.contact,
      address: account.address,
      identity_numbers: account.identity_numbers,
      created_at: account.created_at,
      updated_at: account.updated_at,
      redacted_at: account.redacted_at,
    },
    relationships: {
      sessions: { data: account.sessions.map((id) => ({ type: 'session', id })) },
      documents: { data: account.documents.map((id) => ({ type: 'document', id })) },
    },
  };
}

export function accountDocument(account: Account) {
  return { data: accountResource(account) };
}

/** ETag carries the stream revision, so If-Match names exactly the state the client saw. */
export const etagOf = (revision: bigint) => `"${revision}"`;

// If-Match (RFC 9110 §13.1.1): `*` or a list of entity tags, compared strongly. One tag: a quoted
// string, W/ in front when weak. A weak tag never matches under the strong comparison.
const ENTITY_TAG = /\s*(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"\s*(?:,|$)/y;
const REVISION_TAG = /^\d{1,18}$/;

/**
 * The revision a write's If-Match requires, or undefined when it requires none (absent or `*`).
 * 412 when no tag of the list can match any revision (weak, or never issued by this API), since
 * then the precondition fails whatever the account's state; 400 when the header is not a list of
 * entity tags, or names several revisions (one account is at one revision: send the one you read).
 */
export function readIfMatch(header: string | undefined): bigint | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const strong = new Set<string>();
  ENTITY_TAG.lastIndex = 0;
  while (ENTITY_TAG.lastIndex < header.length || header.trim() === '') {
    const match = ENTITY_TAG.exec(header);
    if (!match) throw ifMatchError(400, 'invalid_header', 'If-Match must be * or an ETag of this API, such as "3"');
    if (!match[1] && REVISION_TAG.test(match[2])) strong.add(match[2]);
  }
  if (strong.size > 1) throw ifMatchError(400, 'invalid_header', 'If-Match may name one ETag of this API: the one you last read');
  const [revision] = strong;
  if (revision === undefined) {
    throw ifMatchError(412, 'precondition_failed', 'If-Match is compared strongly: a weak ETag (W/"3") or one this API never issued matches no revision. Send the ETag exactly as the API gave it');
  }
  return BigInt(revision);
}

const ifMatchError = (status: number, code: string, detail: string) => JsonApiError.of(status, code, detail, { source: { header: 'If-Match' } });
