import { errorObject, JsonApiError, JsonApiErrorObject, problemsError } from '../../http/jsonapi-error';
import { ACCOUNT_EVENT_TYPES } from '../domain/events';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../http/list-query';
import { AsOf } from './get-account-as-of';
import { AccountEventsPage } from './get-account-events';

// The query parameters of the reviewers' reads: GET /accounts/{id}/events (filter[event_type],
// page[size|after|before], paged exactly like the list) and GET /accounts/{id}?as_of=.

export interface AccountEventsQueryParams {
  eventTypes: string[] | null;
  page: AccountEventsPage;
}

/** Reads the query string, reporting every bad parameter at once (400, source.parameter). */
export function readAccountEventsQuery(search: URLSearchParams): AccountEventsQueryParams {
  const query: AccountEventsQueryParams = { eventTypes: null, page: { size: DEFAULT_PAGE_SIZE } };
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
      case 'filter[event_type]': {
        const types = value.split(',');
        if (types.every((type) => (ACCOUNT_EVENT_TYPES as readonly string[]).includes(type))) query.eventTypes = [...new Set(types)];
        else problem(name, `filter[event_type] must be one or more of ${ACCOUNT_EVENT_TYPES.join(', ')}, separated by commas`);
        break;
      }
      case 'page[size]': {
        const size = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
        if (size >= 1 && size <= MAX_PAGE_SIZE) query.page.size = size;
        else problem(name, `page[size] must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
        break;
      }
      case 'page[after]':
      case 'page[before]': {
        const revision = decodeRevisionCursor(value);
        if (revision !== null) query.page[name === 'page[after]' ? 'after' : 'before'] = revision;
        else problem(name, `${name} is not a cursor of this API: use the links of a previous answer`, 'invalid_cursor');
        break;
      }
      default:
        problem(name, `Unknown query parameter ${name}: filter[event_type], page[size], page[after] and page[before] are supported`);
    }
  }
  if (query.page.after !== undefined && query.page.before !== undefined) problem('page[before]', 'Use page[after] or page[before], not both');
  if (problems.length) throw problemsError(400, problems);
  return query;
}

// Cursors are opaque to clients: base64url of `r<revision>`. Checked strictly on the way in (one
// spelling per revision), so a cursor can only ever become a revision bound, never anything else.
export function encodeRevisionCursor(revision: bigint): string {
  return Buffer.from(`r${revision}`, 'utf8').toString('base64url');
}

export function decodeRevisionCursor(cursor: string): bigint | null {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(cursor)) return null;
  const match = /^r(0|[1-9]\d{0,17})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return null;
  const revision = BigInt(match[1]);
  return encodeRevisionCursor(revision) === cursor ? revision : null;
}

export const AS_OF = 'as_of';
const AS_OF_HELP = 'as_of must be a revision (a whole number, such as 3) or an RFC 3339 time (such as 2026-05-01T12:00:00Z or 2026-05-01T14:00:00.250+02:00)';
const REVISION = /^(0|[1-9]\d{0,17})$/;
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** `as_of` from the query string: undefined when absent, 400 naming the parameter when malformed. */
export function readAsOf(search: URLSearchParams): AsOf | undefined {
  const values = search.getAll(AS_OF);
  if (values.length === 0) return undefined;
  const invalid = (detail: string) => JsonApiError.of(400, 'invalid_parameter', detail, { source: { parameter: AS_OF } });
  if (values.length > 1) throw invalid(`${AS_OF} may be given only once`);
  const [value] = values;
  if (REVISION.test(value)) return { revision: BigInt(value) };
  const time = parseRfc3339(value);
  if (!time) throw invalid(AS_OF_HELP);
  return { time, text: value };
}

/** A real RFC 3339 date-time (no February 30, no hour 24), to the millisecond (finer digits are cut). */
function parseRfc3339(text: string): Date | null {
  const match = RFC_3339.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const millis = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetMinutes = match[8] ? 0 : (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11]));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  if (Number(match[10] ?? 0) > 23 || Number(match[11] ?? 0) > 59) return null;
  return new Date(utc(year, month - 1, day).getTime() + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis);
}

// setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
function utc(year: number, monthIndex: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date;
}

const daysInMonth = (year: number, month: number) => utc(year, month, 0).getUTCDate();
