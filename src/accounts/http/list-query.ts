import { length } from 'class-validator';
import { errorObject, JsonApiErrorObject, problemsError } from '../../http/jsonapi-error';
import { ACCOUNT_ID_PATTERN } from '../../kernel/ids';
import { AccountListView } from '../application/list-accounts';
import { ACCOUNT_STATUSES, ENTITY_TYPES } from '../domain/account';
import { normalizedRelatedId, relatedIdRule } from '../domain/relationships';
import { AccountFilter, LINK_FILTERS, ListBound, ListRequest } from '../projection/account-read-model.port';
import { PRINTABLE } from './account-attributes.dto';
import { accountResource } from './account.serializer';

// GET /accounts (docs/API.md): filter[external_id|status|entity_type|session|document], page[size|after|before].

export const DEFAULT_PAGE_SIZE = 15;
export const MAX_PAGE_SIZE = 100;

export interface ListQuery {
  filter: AccountFilter;
  page: ListRequest;
}

/** Reads the query string, reporting every bad parameter at once (400, source.parameter). */
export function readListQuery(search: URLSearchParams): ListQuery {
  const filter: AccountFilter = {};
  const page: ListRequest = { size: DEFAULT_PAGE_SIZE };
  const problems: JsonApiErrorObject[] = [];
  const problem = (parameter: string, detail: string, code = 'invalid_parameter') =>
    problems.push(errorObject(400, code, detail, { source: { parameter } }));
  const seen = new Set<string>();

  for (const [name, value] of search) {
    if (seen.has(name)) {
      problem(name, `${name} may be given only once`);
      continue;
    }
    seen.add(name);
    switch (name) {
      case 'filter[external_id]':
        // The same rules as the attribute (account-attributes.dto.ts).
        if (length(value, 1, 255) && PRINTABLE.test(value)) filter.external_id = value;
        else problem(name, 'filter[external_id] must be 1 to 255 printable characters');
        break;
      case 'filter[status]':
        if (isOneOf(value, ACCOUNT_STATUSES)) filter.status = value;
        else problem(name, `filter[status] must be one of ${ACCOUNT_STATUSES.join(', ')}`);
        break;
      case 'filter[entity_type]':
        if (isOneOf(value, ENTITY_TYPES)) filter.entity_type = value;
        else problem(name, `filter[entity_type] must be one of ${ENTITY_TYPES.join(', ')}`);
        break;
      case 'filter[session]':
      case 'filter[document]': {
        const filterName = name === 'filter[session]' ? 'session' : 'document';
        const id = normalizedRelatedId(LINK_FILTERS[filterName], value);
        if (id !== null) filter[filterName] = id;
        else problem(name, `${name} must be ${relatedIdRule(LINK_FILTERS[filterName])}`);
        break;
      }
      case 'page[size]': {
        const size = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
        if (size >= 1 && size <= MAX_PAGE_SIZE) page.size = size;
        else problem(name, `page[size] must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
        break;
      }
      case 'page[after]':
      case 'page[before]': {
        const bound = decodeCursor(value);
        if (bound) page[name === 'page[after]' ? 'after' : 'before'] = bound;
        else problem(name, `${name} is not a cursor of this API: use the links of a previous answer`, 'invalid_cursor');
        break;
      }
      default:
        problem(
          name,
          `Unknown query parameter ${name}: filter[external_id], filter[status], filter[entity_type], filter[session], filter[document], page[size], page[after] and page[before] are supported`,
        );
    }
  }
  if (page.after && page.before) problem('page[before]', 'Use page[after] or page[before], not both');
  if (problems.length) throw problemsError(400, problems);
  return { filter, page };
}

/** `{ data, links: { prev, next } }`; the links repeat the filters and the page size. */
export function listDocument(view: AccountListView, query: ListQuery, baseUrl: string) {
  const link = (parameter: 'page[before]' | 'page[after]', bound: ListBound | null) => {
    if (!bound) return null;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query.filter)) params.set(`filter[${key}]`, value);
    params.set('page[size]', String(query.page.size));
    params.set(parameter, encodeCursor(bound));
    return `${baseUrl}?${params}`;
  };
  return {
    data: view.accounts.map(accountResource),
    links: { prev: link('page[before]', view.newer), next: link('page[after]', view.older) },
  };
}

// Cursors are opaque to clients: base64url of [created_at, id, inclusive]. Checked strictly on the
// way in, so a cursor can only ever become a bound of the list, never anything else.
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export function encodeCursor(bound: ListBound): string {
  return Buffer.from(JSON.stringify([bound.created_at, bound.id, bound.inclusive ? 1 : 0]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): ListBound | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) return null;
  const [createdAt, id, inclusive] = decoded as unknown[];
  if (typeof createdAt !== 'string' || !CURSOR_TIME.test(createdAt)) return null;
  if (typeof id !== 'string' || !ACCOUNT_ID_PATTERN.test(id)) return null;
  if (inclusive !== 0 && inclusive !== 1) return null;
  return { created_at: createdAt, id, inclusive: inclusive === 1 };
}

const isOneOf = <T extends string>(value: string, allowed: readonly T[]): value is T => (allowed as readonly string[]).includes(value);

