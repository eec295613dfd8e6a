import 'reflect-metadata';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, readListQuery } from '../../src/accounts/http/list-query';
import { JsonApiError } from '../../src/http/jsonapi-error';

const bound = { created_at: '2026-01-01T00:00:00Z', id: 'acc_01HQ00000000000000000000AA', inclusive: false };
const params = (query: string) => new URLSearchParams(query);
const errorOf = (query: string) => {
  try {
    readListQuery(params(query));
  } catch (error) {
    return error as JsonApiError;
  }
  throw new Error('expected a refusal');
};

describe('List query', () => {
  it('round-trips cursors, inclusive or not', () => {
    expect(decodeCursor(encodeCursor(bound))).toEqual(bound);
    expect(decodeCursor(encodeCursor({ ...bound, inclusive: true }))).toEqual({ ...bound, inclusive: true });
    expect(encodeCursor(bound)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('refuses anything else as a cursor', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      '', 'x', '!!!', 'a'.repeat(201), encode({}), encode([]), encode(['2026-01-01T00:00:00Z', bound.id]),
      encode(['2026-01-01', bound.id, 0]), encode(['2026-01-01T00:00:00Z', 'acc_short', 0]), encode(['2026-01-01T00:00:00Z', bound.id, 2]),
      encode([1, 2, 3]), Buffer.from('{"a":').toString('base64url'),
    ]) {
      expect(decodeCursor(cursor)).toBeNull();
    }
  });

  it('reads filters and page parameters, with defaults', () => {
    expect(readListQuery(params(''))).toEqual({ filter: {}, page: { size: DEFAULT_PAGE_SIZE } });
    const cursor = encodeCursor(bound);
    expect(readListQuery(params(`filter[status]=active&filter[entity_type]=business&filter[external_id]=u-1&page[size]=100&page[after]=${cursor}`))).toEqual({
      filter: { status: 'active', entity_type: 'business', external_id: 'u-1' },
      page: { size: 100, after: bound },
    });
    expect(readListQuery(params(`page%5Bsize%5D=3&page%5Bbefore%5D=${cursor}`)).page).toEqual({ size: 3, before: bound });
  });

  it('reports every bad parameter, each with its source.parameter', () => {
    const error = errorOf('page[size]=101&filter[status]=bogus&filter[entity_type]=robot&page[after]=nope&include=x');
    expect(error.status).toBe(400);
    expect(error.errors.map((e) => [e.code, e.source?.parameter])).toEqual([
      ['invalid_parameter', 'page[size]'],
      ['invalid_parameter', 'filter[status]'],
      ['invalid_parameter', 'filter[entity_type]'],
      ['invalid_cursor', 'page[after]'],
      ['invalid_parameter', 'include'],
    ]);
    for (const size of ['0', '-1', '1.5', '1e2', ' 7', '101', '9999999999']) expect(errorOf(`page[size]=${size}`).errors[0].source).toEqual({ parameter: 'page[size]' });
  });
});
