import { Tenant } from '../../kernel/tenant';
import { accountDocument } from '../http/account.serializer';
import { AccountAt, TrailEntry } from './account-history';
import { AccountEventsQueryParams, encodeRevisionCursor } from './audit-query';
import { AccountEventsView } from './get-account-events';

export const ACCOUNT_EVENT_TYPE = 'account-event';

/**
 * One event of an account's trail: what happened (type, changes), when (the store's time, to the
 * millisecond), who (tenant and API key id, never the key), which request, and its place in the
 * hash chain. Personal values read "[redacted]" once the account is redacted.
 */
export function accountEventResource(accountId: string, entry: TrailEntry) {
  const { recorded } = entry;
  const metadata = recorded.metadata;
  const tenant = metadata.tenant as Partial<Tenant> | undefined;
  const { account_id: _accountId, ...changes } = entry.changes;
  return {
    type: ACCOUNT_EVENT_TYPE,
    id: recorded.id,
    attributes: {
      event_type: recorded.type,
      revision: Number(recorded.revision),
      occurred_at: recorded.recordedAt.toISOString(),
      actor: {
        organization_id: tenant?.organization_id ?? null,
        environment: tenant?.environment ?? null,
        api_key_id: metadata.api_key_id ?? null,
      },
      request_id: metadata.request_id ?? null,
      correlation_id: metadata.correlation_id ?? null,
      causation_id: metadata.causation_id ?? null,
      changes,
      prev_hash: metadata.prev_hash ?? null,
      hash: entry.hash,
    },
    relationships: { account: { data: { type: 'account', id: accountId } } },
  };
}

/** `{ data, links: { prev, next } }`; the links repeat the filter and the page size, like the list's. */
export function accountEventsDocument(view: AccountEventsView, query: AccountEventsQueryParams, baseUrl: string) {
  const link = (parameter: 'page[before]' | 'page[after]', bound: bigint | null) => {
    if (bound === null) return null;
    const params = new URLSearchParams();
    if (query.eventTypes) params.set('filter[event_type]', query.eventTypes.join(','));
    params.set('page[size]', String(query.page.size));
    // "After revision -1" is the first page: it needs no cursor.
    if (bound >= 0n) params.set(parameter, encodeRevisionCursor(bound));
    return `${baseUrl}?${params}`;
  };
  return {
    data: view.entries.map((entry) => accountEventResource(view.accountId, entry)),
    links: { prev: link('page[before]', view.earlier), next: link('page[after]', view.later) },
  };
}

/** The account as it was, with the point it was read at; `redacted`: its personal data is erased now. */
export function accountAsOfDocument(at: AccountAt) {
  return {
    ...accountDocument(at.account),
    meta: { as_of: { revision: Number(at.revision), occurred_at: at.recordedAt.toISOString() }, redacted: at.redacted },
  };
}
