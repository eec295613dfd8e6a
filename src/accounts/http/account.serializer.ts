import { Account } from '../domain/account';

/** The one JSON:API shape of an account (SPEC §2): every attribute present, in the contract's order. */
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

export function parseIfMatch(header: string | undefined): bigint | undefined | null {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,18})"\s*$/.exec(header);
  return match ? BigInt(match[1]) : null;
}
