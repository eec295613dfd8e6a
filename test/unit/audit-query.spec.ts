import 'reflect-metadata';
import { decodeRevisionCursor, encodeRevisionCursor, readAccountEventsQuery, readAsOf } from '../../src/accounts/audit/audit-query';
import { JsonApiError } from '../../src/http/jsonapi-error';

const params = (query: string) => new URLSearchParams(query);
function refusalOf(run: () => unknown): JsonApiError {
  try {
    run();
  } catch (error) {
    return error as JsonApiError;
  }
  throw new Error('expected a refusal');
}

describe('Event trail cursors', () => {
  it('round-trip every revision, as opaque URL-safe text', () => {
    for (const revision of [0n, 1n, 42n, 999_999_999_999_999_999n]) {
      const cursor = encodeRevisionCursor(revision);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeRevisionCursor(cursor)).toBe(revision);
    }
  });

  it('refuse anything else: other spellings, negatives, list cursors, garbage', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const cursor of ['', '!!', b64('1'), b64('r'), b64('r-1'), b64('r01'), b64('r1 '), b64('r1.5'), b64('r1000000000000000000'), `${encodeRevisionCursor(1n)}=`, b64('["2026-01-01T00:00:00Z","acc_x",0]')]) {
      expect([cursor, decodeRevisionCursor(cursor)]).toEqual([cursor, null]);
    }
  });

  it('reads filter and page, and reports every bad parameter at once', () => {
    expect(readAccountEventsQuery(params(`filter[event_type]=account.created,account.redacted&page[size]=3&page[after]=${encodeRevisionCursor(4n)}`))).toEqual({
      eventTypes: ['account.created', 'account.redacted'],
      page: { size: 3, after: 4n },
    });
    const error = refusalOf(() => readAccountEventsQuery(params('page[size]=x&filter[event_type]=nope&page[size]=2&sort=revision')));
    expect(error.status).toBe(400);
    expect(error.errors.map((e) => e.source?.parameter)).toEqual(['page[size]', 'filter[event_type]', 'page[size]', 'sort']);
    const both = refusalOf(() => readAccountEventsQuery(params(`page[after]=${encodeRevisionCursor(1n)}&page[before]=${encodeRevisionCursor(3n)}`)));
    expect(both.errors[0].source).toEqual({ parameter: 'page[before]' });
  });
});

describe('as_of', () => {
  const timeOf = (value: string) => {
    const asOf = readAsOf(params(`as_of=${encodeURIComponent(value)}`));
    if (!asOf || !('time' in asOf)) throw new Error(`${value} was not read as a time`);
    return asOf.time.toISOString();
  };

  it('is absent, a revision, or a time to the millisecond in any offset', () => {
    expect(readAsOf(params('other=1'))).toBeUndefined();
    expect(readAsOf(params('as_of=0'))).toEqual({ revision: 0n });
    expect(readAsOf(params('as_of=17'))).toEqual({ revision: 17n });
    expect(timeOf('2026-05-01T12:00:00Z')).toBe('2026-05-01T12:00:00.000Z');
    expect(timeOf('2026-05-01t12:00:00.5z')).toBe('2026-05-01T12:00:00.500Z');
    expect(timeOf('2026-05-01T14:30:00.123456+02:30')).toBe('2026-05-01T12:00:00.123Z');
    expect(timeOf('2026-05-01T00:00:00-01:00')).toBe('2026-05-01T01:00:00.000Z');
    expect(timeOf('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
    expect(timeOf('0050-01-01T00:00:00Z')).toBe('0050-01-01T00:00:00.000Z');
  });

  it('refuses anything else with 400 naming as_of', () => {
    for (const value of ['', 'now', '-1', '+1', '01', '1e3', '1.0', '2026-05-01', '2026-05-01 12:00:00Z', '2026-05-01T12:00Z', '2026-05-01T12:00:00',
      '2025-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-05-01T24:00:00Z', '2026-05-01T12:60:00Z', '2026-05-01T12:00:60Z',
      '2026-05-01T12:00:00+24:00', '2026-05-01T12:00:00+02:60', '2026-05-01T12:00:00.Z', '2026-05-01T12:00:00.1234567890Z']) {
      const error = refusalOf(() => readAsOf(params(`as_of=${encodeURIComponent(value)}`)));
      expect([value, error.status, error.errors[0].source]).toEqual([value, 400, { parameter: 'as_of' }]);
    }
  });
});
