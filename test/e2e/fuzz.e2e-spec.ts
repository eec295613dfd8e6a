import fc from 'fast-check';
import { ACCOUNTS, appForEachSuite } from '../support/app-harness';
import { answerProblems, Budget, countAccounts, FuzzRequest, fuzzParameters, fuzzRequest, getAt, isContainer, jestTimeout, Json, pathOf, readState, send, setAt, stateChanges, TenantState, VALID_KEY, withOwn } from '../support/fuzz';

// Property-based fuzzing of the whole HTTP surface. Whatever a client sends (bodies mutated at
// every attribute position, raw bytes, list query strings, ids in paths, odd headers), the service
// answers below 500 and within 5 s; every 4xx is a JSON:API error document whose error objects are
// unique and whose source.pointer leads to the value at fault; a link it gives can be followed; a
// refused write changes nothing (the tenant's accounts, and each seeded account's body and ETag).
//
// A failure prints fast-check's seed and path, the shrunk request and what it broke. Replay with
// FUZZ_SEED=<seed> FUZZ_PATH=<path> npx jest test/e2e/fuzz.e2e-spec.ts -t '<test name>'.
// FUZZ_RUNS=<n> runs n times as many cases (and gives n times the time).

// ---------------------------------------------------------------------------------------------
// Valid documents: the base every mutation starts from.

const text = (max: number) => fc.string({ unit: 'grapheme', minLength: 1, maxLength: max });
const day = (min: string, max: string) => fc.date({ min: new Date(min), max: new Date(max), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const country = fc.constantFrom('US', 'GB', 'FR', 'DE', 'JP', 'BR', 'NG', 'IN');
const externalId = fc.stringMatching(/^fuzz-[a-z0-9]{6,12}$/);

const personAttributes = fc.record(
  {
    name: fc.record({ first: text(30), middle: text(30), last: text(30) }, { requiredKeys: [] }),
    birth_date: day('1900-01-01', '2010-12-31'),
    sex: fc.constantFrom('female', 'male', 'other'),
  },
  { requiredKeys: [] },
);
const shareholder = fc.record(
  {
    name: text(40),
    shareholder_type: fc.constantFrom('person', 'business'),
    date_of_birth: day('1900-01-01', '2010-12-31'),
    id_type: fc.constantFrom('passport', 'national_id'),
    id_number: fc.stringMatching(/^[A-Z0-9]{5,12}$/),
    number_of_share: fc.stringMatching(/^[1-9][0-9]{0,8}$/),
    percentage_of_share: fc.double({ min: 0, max: 100, noNaN: true }),
  },
  { requiredKeys: [] },
);
const businessAttributes = fc.record(
  { legal_name: text(60), registration_date: day('1800-01-01', '2020-12-31'), shareholders: fc.array(shareholder, { maxLength: 3 }) },
  { requiredKeys: [] },
);
const sharedAttributes = {
  external_id: externalId,
  contact: fc.record(
    { email: fc.tuple(fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.stringMatching(/^[a-z]{2,12}$/)).map(([user, host]) => `${user}@${host}.example`), phone: fc.stringMatching(/^\+[1-9][0-9]{6,14}$/) },
    { requiredKeys: [] },
  ),
  address: fc.record(
    { line1: text(40), line2: text(40), sublocality: text(30), locality: text(30), administrative_area: text(30), postal_code: fc.stringMatching(/^[A-Z0-9]{3,8}$/), country_code: country },
    { requiredKeys: [] },
  ),
  identity_numbers: fc.array(
    fc.record({ number: fc.stringMatching(/^[A-Z0-9]{4,20}$/), issuing_country_code: country, class: fc.constantFrom('ssn', 'passport', 'national_id', 'tax_id') }, { requiredKeys: ['number', 'class'] }),
    { maxLength: 3 },
  ),
};

const createAttributes = fc.oneof(
  fc.record({ entity_type: fc.constant('person'), person: personAttributes, ...sharedAttributes }, { requiredKeys: ['entity_type'] }),
  fc.record({ entity_type: fc.constant('business'), business: businessAttributes, ...sharedAttributes }, { requiredKeys: ['entity_type'] }),
);

/** A seeded account to PATCH, with attributes of its kind. */
const patchOfTarget = fc.oneof(
  fc.record({ target: fc.constant('person' as const), attributes: fc.record({ person: personAttributes, ...sharedAttributes }, { requiredKeys: [] }) }),
  fc.record({ target: fc.constant('business' as const), attributes: fc.record({ business: businessAttributes, ...sharedAttributes }, { requiredKeys: [] }) }),
);
const statusOfTarget = fc.record({
  target: fc.constantFrom('person' as const, 'business' as const),
  attributes: fc.record({ status: fc.constantFrom('active', 'pending', 'inactive', 'suspended'), reason: text(60) }, { requiredKeys: ['status'] }),
});

// ---------------------------------------------------------------------------------------------
// The seeded accounts: PATCH and status targets, watched for changes by refused writes.

const FULL_ADDRESS = { line1: '12 St James Square', line2: 'Flat 3', sublocality: 'St James', locality: 'London', administrative_area: 'Greater London', postal_code: 'SW1Y4JH', country_code: 'GB' };
const SEEDED = {
  person: {
    external_id: 'fuzz-target-person',
    entity_type: 'person',
    person: { name: { first: 'Ada', middle: 'King', last: 'Lovelace' }, birth_date: '1985-12-10', sex: 'female' },
    contact: { email: 'ada@example.com', phone: '+442071234567' },
    address: FULL_ADDRESS,
    identity_numbers: [{ number: 'AB123456C', issuing_country_code: 'GB', class: 'national_insurance' }],
  },
  business: {
    external_id: 'fuzz-target-business',
    entity_type: 'business',
    business: {
      legal_name: 'Analytical Engines Ltd',
      registration_date: '1990-07-01',
      shareholders: [
        { name: 'Ada Lovelace', shareholder_type: 'person', date_of_birth: '1985-12-10', id_type: 'passport', id_number: 'P1234567', number_of_share: '600', percentage_of_share: 60 },
        { name: 'Babbage Holdings', shareholder_type: 'business', id_type: 'company_number', id_number: '01234567', number_of_share: '400', percentage_of_share: 40 },
      ],
    },
    contact: { email: 'office@engines.example', phone: '+442079460000' },
    address: FULL_ADDRESS,
    identity_numbers: [{ number: 'GB123456789', issuing_country_code: 'GB', class: 'vat' }],
  },
};
/** The seeded accounts' ids, known once the app runs (arbitraries read them when they generate). */
const seeded = { person: '', business: '' };
const accountPath = (target: keyof typeof seeded, suffix = '') => `${ACCOUNTS}/${seeded[target]}${suffix}`;

// ---------------------------------------------------------------------------------------------
// Mutations: a change at a JSON pointer of a document. Pointers are written as in error sources.

type Mutation = (document: Json) => Json;

const set = (pointer: string, value: Json): Mutation => (document) => setAt(document, pathOf(pointer), value);
const remove = (pointer: string): Mutation => (document) => setAt(document, pathOf(pointer), undefined);
const addKey = (pointer: string, key: string, value: Json): Mutation => (document) => setAt(document, [...pathOf(pointer), key], value);
/** Puts text inside the string already there (an email stays email-shaped around it), or sets it. */
const insertText = (pointer: string, inserted: string, position: number): Mutation => (document) => {
  const current = getAt(document, pathOf(pointer));
  const value = typeof current === 'string' ? current.slice(0, position % (current.length + 1)) + inserted + current.slice(position % (current.length + 1)) : inserted;
  return setAt(document, pathOf(pointer), value);
};
const RESHAPES = ['wrap in an array', 'array as object', 'object as entries'] as const;
const reshape = (pointer: string, how: (typeof RESHAPES)[number]): Mutation => (document) => {
  const current = getAt(document, pathOf(pointer)) ?? null;
  const shapes = { 'wrap in an array': () => [current], 'array as object': () => ({ ...(current as object) }), 'object as entries': () => (isContainer(current) ? Object.entries(current) : [current]) };
  return setAt(document, pathOf(pointer), shapes[how]() as Json);
};

// Every attribute position of the documents, below /data/attributes.
const SHAREHOLDER_FIELDS = ['name', 'shareholder_type', 'date_of_birth', 'id_type', 'id_number', 'number_of_share', 'percentage_of_share'];
const ADDRESS_FIELDS = ['line1', 'line2', 'sublocality', 'locality', 'administrative_area', 'postal_code', 'country_code'];
/** Where text belongs. */
const ACCOUNT_TEXT = [
  'external_id', 'entity_type',
  'person/name/first', 'person/name/middle', 'person/name/last', 'person/birth_date', 'person/sex',
  'business/legal_name', 'business/registration_date', ...SHAREHOLDER_FIELDS.filter((f) => f !== 'percentage_of_share').map((f) => `business/shareholders/0/${f}`),
  'contact/email', 'contact/phone',
  ...ADDRESS_FIELDS.map((f) => `address/${f}`),
  'identity_numbers/0/number', 'identity_numbers/0/issuing_country_code', 'identity_numbers/0/class',
];
/** Where objects or arrays belong (the empty pointer is data.attributes itself). */
const ACCOUNT_CONTAINERS = ['', 'person', 'person/name', 'business', 'business/shareholders', 'business/shareholders/0', 'contact', 'address', 'identity_numbers', 'identity_numbers/0'];
const ACCOUNT_ATTRIBUTES = [
  ...ACCOUNT_CONTAINERS, ...ACCOUNT_TEXT,
  'business/shareholders/0/percentage_of_share', 'business/shareholders/1/name', 'identity_numbers/1/number',
  // Read-only ones: a client may not write them.
  'status', 'created_at', 'updated_at', 'redacted_at', 'identity_numbers/0/created_at',
];
const STATUS_TEXT = ['status', 'reason'];
const STATUS_ATTRIBUTES = ['', ...STATUS_TEXT];
/** The envelope, from the document's root. */
const ENVELOPE = ['', 'data', 'data/type', 'data/id', 'data/attributes', 'data/relationships', 'data/meta', 'data/links', 'meta', 'jsonapi', 'included', 'errors'];

// ---------------------------------------------------------------------------------------------
// Hostile values, one family at a time, so a failure names its family and each family is tried.

const PROTOTYPE_KEYS = ['constructor', '__proto__', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'toLocaleString', '__defineGetter__'];
const anyJson = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
const wrongType = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, 1, -1, 0.5, '', ' ', [], {}, [null], [[]], [{}], { '': '' }),
  anyJson,
  fc.array(anyJson, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 }),
);
const prototypeKeyed = fc
  .tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.oneof(fc.constantFrom<Json>(1, 'x', null, {}, [], { prototype: {} }, { prototype: { polluted: true } }), anyJson))
  .map(([key, value]) => withOwn({}, key, value));
const controlCharacter = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f), fc.integer({ min: 0x80, max: 0x9f })).map((c) => String.fromCharCode(c));
const loneSurrogate = fc.oneof(fc.integer({ min: 0xd800, max: 0xdbff }), fc.integer({ min: 0xdc00, max: 0xdfff })).map((c) => String.fromCharCode(c));
const oddUnicode = fc.constantFrom('\ufeff', '\u200b', '\u2028', '\u202e', '\ufffe', '\uffff', '\ufffd', 'e\u0301', '\u{1f600}', '\u{10ffff}', '\u{e0001}');
const oddText = fc.array(fc.oneof(controlCharacter, loneSurrogate, oddUnicode), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(''));
const hugeString = fc.tuple(fc.constantFrom('x', 'é', '\u{1f600}', '\u0000', '\ud800', '<>'), fc.integer({ min: 256, max: 100_000 })).map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)));
const deeplyNested = fc.tuple(fc.integer({ min: 2, max: 64 }), fc.boolean()).map(([depth, arrays]) => {
  let value: Json = 'deep';
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
  return value;
});
const numberAtExtremes = fc.oneof(
  fc.constantFrom(Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2, Number.MIN_SAFE_INTEGER - 2, 2 ** 31, -(2 ** 31) - 1, 2 ** 64, 1e21, -0, 100.00000000000001, 1e-7),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const numberLikeText = fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', '+0', '1e999', '0x1F', '0b1', '1_000', 'null', 'undefined', 'true', '[]', '{}', ' 42 ', '４２', '٤٢', '9'.repeat(400), '0'.repeat(40), '1e2');
const unknownKey = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('', ' ', 'a.b', 'a/b', '~', 'a~b', '$ne', 'ENTITY_TYPE', 'entity_type ', 'id', 'type', 'attributes', 'data', 'nickname'));

/**
 * Each family: the mutations it makes, given the document's text positions and all its positions,
 * and how many of them one request carries at most (more where a bug hides at a single position).
 */
interface Family {
  name: string;
  mutation: (textAt: string[], anyAt: string[]) => fc.Arbitrary<Mutation>;
  perRequest: number;
}
const FAMILIES: Family[] = [
  {
    name: 'wrong JSON types, arrays for objects and objects for text, missing members',
    perRequest: 3,
    mutation: (_, anyAt) =>
      fc.oneof(
        fc.tuple(fc.constantFrom(...anyAt), wrongType).map(([at, value]) => set(at, value)),
        fc.tuple(fc.constantFrom(...anyAt), fc.constantFrom(...RESHAPES)).map(([at, how]) => reshape(at, how)),
        fc.constantFrom(...anyAt).map(remove),
      ),
  },
  {
    name: 'prototype keys (constructor, __proto__, toString...) as values and as members',
    perRequest: 3,
    mutation: (_, anyAt) =>
      fc.oneof(
        fc.tuple(fc.constantFrom(...anyAt), prototypeKeyed).map(([at, value]) => set(at, value)),
        fc.tuple(fc.constantFrom(...anyAt), prototypeKeyed).map(([at, value]) => set(at, [value])),
        fc.tuple(fc.constantFrom(...anyAt), fc.constantFrom(...PROTOTYPE_KEYS), anyJson).map(([at, key, value]) => addKey(at, key, value)),
      ),
  },
  {
    name: 'control characters, lone surrogates and odd code points in text and in keys',
    perRequest: 6,
    mutation: (textAt, anyAt) =>
      fc.oneof(
        { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...textAt), oddText, fc.nat()).map(([at, inserted, position]) => insertText(at, inserted, position)) },
        { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...textAt), oddText).map(([at, value]) => set(at, value)) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...textAt), fc.string({ unit: 'binary', maxLength: 20 })).map(([at, value]) => set(at, value)) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...anyAt), oddText).map(([at, key]) => addKey(at, key, 'x')) },
      ),
  },
  {
    name: 'huge strings (some past 1 MiB in all), deep nesting, long arrays and many members',
    perRequest: 3,
    mutation: (_, anyAt) =>
      fc.tuple(
        fc.constantFrom(...anyAt),
        fc.oneof(
          { weight: 4, arbitrary: hugeString },
          { weight: 4, arbitrary: deeplyNested },
          { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 21, max: 5000 }), fc.constantFrom<Json>({}, 'x', { number: '1', class: 'ssn' }, null)).map(([length, item]) => Array<Json>(length).fill(item)) },
          { weight: 2, arbitrary: fc.integer({ min: 10, max: 5000 }).map((count) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]))) },
          { weight: 1, arbitrary: fc.constant('x'.repeat(1024 * 1024 + 1)) },
        ),
      ).map(([at, value]) => set(at, value)),
  },
  {
    name: 'numbers at the extremes and number-like text',
    perRequest: 3,
    mutation: (_, anyAt) => fc.tuple(fc.constantFrom(...anyAt), fc.oneof(numberAtExtremes, numberLikeText)).map(([at, value]) => set(at, value)),
  },
  {
    name: 'unknown members, anywhere',
    perRequest: 3,
    mutation: (_, anyAt) => fc.tuple(fc.constantFrom(...anyAt), unknownKey, anyJson).map(([at, key, value]) => addKey(at, key, value)),
  },
];

const mutated = <T extends { attributes: Json }>(base: fc.Arbitrary<T>, mutations: fc.Arbitrary<Mutation[]>) =>
  fc.tuple(base, mutations).map(([document, mutations]) => ({
    ...document,
    attributes: mutations.reduce((attributes, mutate) => mutate(attributes), JSON.parse(JSON.stringify(document.attributes)) as Json),
  }));

/** The three endpoints that take attributes, each with its valid base and attribute positions. */
const BODY_ENDPOINTS = [
  {
    name: 'create',
    textAt: ACCOUNT_TEXT,
    anyAt: ACCOUNT_ATTRIBUTES,
    requests: (mutations: fc.Arbitrary<Mutation[]>) =>
      mutated(createAttributes.map((attributes) => ({ attributes: attributes as Json })), mutations).map(({ attributes }) =>
        fuzzRequest({ method: 'POST', path: ACCOUNTS, json: { data: { type: 'account', attributes } } }),
      ),
  },
  {
    name: 'PATCH',
    textAt: ACCOUNT_TEXT,
    anyAt: ACCOUNT_ATTRIBUTES,
    requests: (mutations: fc.Arbitrary<Mutation[]>) =>
      mutated(patchOfTarget as fc.Arbitrary<{ target: 'person' | 'business'; attributes: Json }>, mutations).map(({ target, attributes }) =>
        fuzzRequest({ method: 'PATCH', path: accountPath(target), json: { data: { type: 'account', id: seeded[target], attributes } } }),
      ),
  },
  {
    name: 'status change',
    textAt: STATUS_TEXT,
    anyAt: STATUS_ATTRIBUTES,
    requests: (mutations: fc.Arbitrary<Mutation[]>) =>
      mutated(statusOfTarget as fc.Arbitrary<{ target: 'person' | 'business'; attributes: Json }>, mutations).map(({ target, attributes }) =>
        fuzzRequest({ method: 'POST', path: accountPath(target, '/status'), json: { data: { type: 'account-status-change', attributes } } }),
      ),
  },
];

// ---------------------------------------------------------------------------------------------
// Envelopes and raw bodies.

/** A valid document for create, PATCH or status, whole, so that its envelope can be mutated. */
const validDocument = fc.oneof(
  createAttributes.map((attributes) => ({ method: 'POST' as const, path: ACCOUNTS, document: { data: { type: 'account', attributes } } as Json })),
  patchOfTarget.map(({ target, attributes }) => ({ method: 'PATCH' as const, path: accountPath(target), document: { data: { type: 'account', id: seeded[target], attributes } } as Json })),
  statusOfTarget.map(({ target, attributes }) => ({ method: 'POST' as const, path: accountPath(target, '/status'), document: { data: { type: 'account-status-change', attributes } } as Json })),
);
const UNKNOWN_ID = 'acc_01ARZ3NDEKTSV4RRFFQ69G5FAV';
const envelopeValue = fc.oneof(
  fc.constantFrom<Json>('account', 'accounts', 'account-status-change', 'Account', 'person', UNKNOWN_ID, UNKNOWN_ID.toLowerCase(), ''),
  fc.constantFrom('person' as const, 'business' as const).map((target) => seeded[target] as Json),
  wrongType,
  prototypeKeyed,
);
const envelopeRequests = fc
  .tuple(
    validDocument,
    fc.array(
      fc.oneof(fc.tuple(fc.constantFrom(...ENVELOPE), envelopeValue).map(([at, value]) => set(at, value)), fc.constantFrom(...ENVELOPE).map(remove), fc.constantFrom(...ENVELOPE).map((at) => reshape(at, 'wrap in an array'))),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([{ method, path, document }, mutations]) => fuzzRequest({ method, path, json: mutations.reduce((mutated, mutate) => mutate(mutated), document) }));

const JSON_TEXTS_JSON_CANNOT_CARRY = ['1e999', '-1e999', '1e-999', '123456789012345678901234567890', '-0', 'NaN', 'Infinity', '0x10', '01', '.5', '+1', '"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"a\\u0000b"', '"\\uDBFF"', '{"a":1,"a":2}', '[1,]', '{"a":1,}', "'x'", '"\\x41"', '"\t"'];
const rawBody = fc.oneof(
  // Text that is not JSON.
  fc.string({ unit: 'binary', maxLength: 100 }),
  // A valid document cut short.
  fc.tuple(validDocument, fc.nat()).map(([base, cut]) => {
    const text = JSON.stringify(base.document);
    return text.slice(0, cut % text.length);
  }),
  // A valid document with a byte-order mark or odd whitespace around it.
  fc.tuple(validDocument, fc.constantFrom('\ufeff', '\ufeff\ufeff', '\u00a0', '\u2028', '\t\r\n', '\u0000'), fc.boolean()).map(([base, odd, after]) =>
    after ? JSON.stringify(base.document) + odd : odd + JSON.stringify(base.document),
  ),
  // A valid document with bytes that are not UTF-8 inside one of its strings.
  fc.tuple(validDocument, fc.uint8Array({ min: 0x80, max: 0xff, minLength: 1, maxLength: 4 })).map(([base, bytes]) => {
    const [before, after] = JSON.stringify(base.document).split(/"(?:account|account-status-change)"/);
    return Buffer.concat([Buffer.from(`${before}"acc`), Buffer.from(bytes), Buffer.from(`ount"${after ?? ''}`)]);
  }),
  // JSON text a parser may take but a double or a UTF-16 string cannot hold, at an attribute.
  fc.tuple(fc.constantFrom('external_id', 'reason', 'status'), fc.constantFrom(...JSON_TEXTS_JSON_CANNOT_CARRY), fc.constantFrom('account', 'account-status-change')).map(
    ([attribute, value, type]) => `{"data":{"type":"${type}","attributes":{"entity_type":"person","${attribute}":${value}}}}`,
  ),
  // Nested far deeper than any document, yet under 1 MiB.
  fc.tuple(fc.integer({ min: 33, max: 300_000 }), fc.boolean()).map(([depth, arrays]) =>
    arrays ? `{"data":${'['.repeat(depth)}${']'.repeat(depth)}}` : `{"data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
  ),
  // Random bytes.
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);
const JSON_CONTENT_TYPES = ['application/json', 'application/vnd.api+json', 'application/json; charset=utf-8', 'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"'];
const ODD_CONTENT_TYPES = ['application/json; charset=latin1', 'application/json; charset=utf-16le', 'application/json;;', 'application/json; charset=', 'APPLICATION/JSON', 'text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '*/*', 'application/*', ''];
const rawRequests = fc
  .tuple(
    fc.oneof(
      fc.constant({ method: 'POST' as const, path: ACCOUNTS }),
      fc.constantFrom('person' as const, 'business' as const).map((target) => ({ method: 'PATCH' as const, path: accountPath(target) })),
      fc.constantFrom('person' as const, 'business' as const).map((target) => ({ method: 'POST' as const, path: accountPath(target, '/status') })),
    ),
    rawBody,
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...JSON_CONTENT_TYPES) }, fc.constantFrom(...ODD_CONTENT_TYPES), fc.constant(undefined)),
  )
  .map(([endpoint, raw, contentType]) => fuzzRequest({ ...endpoint, headers: { 'Content-Type': contentType }, raw }));

// ---------------------------------------------------------------------------------------------
// List query strings.

const percentEncoded = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const cursor = fc.oneof(
  fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 240 }),
  anyJson.map(cursorOf),
  // Shaped like the API's own cursors ([created_at, id, inclusive]), with odd parts.
  fc
    .tuple(
      fc.oneof(fc.constantFrom('2020-01-01T00:00:00Z', '9999-99-99T99:99:99Z', '0000-00-00T00:00:00Z'), fc.string()),
      fc.oneof(fc.constantFrom('person' as const, 'business' as const).map((target) => seeded[target]), fc.constant(UNKNOWN_ID), fc.string()),
      fc.constantFrom<Json>(0, 1, 2, -1, '1', true, null),
    )
    .map(cursorOf),
);
const queryName = fc.oneof(
  fc.constantFrom('filter[external_id]', 'filter[status]', 'filter[entity_type]', 'page[size]', 'page[after]', 'page[before]'),
  // Bracket soup.
  fc.array(fc.constantFrom('filter', 'page', 'size', 'status', '[', ']', '[]', '%5B', '%5D', '.', '__proto__', 'constructor', '%3D', '%26', '%00'), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 12 }),
);
const queryValue = fc.oneof(
  fc.constantFrom('active', 'pending', 'inactive', 'suspended', 'person', 'business', 'fuzz-target-person', '1', '15', '100'),
  fc.constantFrom('0', '101', '-1', '1.5', '1e2', ' 1', '+1', '0x10', '99999999999999999999', '٣', '', 'PENDING', 'person,business', 'null', '[]'),
  cursor,
  // Percent-encoding, valid and not.
  fc.array(fc.constantFrom('%', '%2', '%ZZ', '%00', '%ED%A0%80', '%C3', '%E2%80%AE', '%5B', '%5D', '%26', '%3D', '+', '%2B', '%FF', 'a'), { minLength: 1, maxLength: 10 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 30 }).map(percentEncoded),
  fc.string({ unit: 'binary', maxLength: 30 }),
  // Long: the whole URL stays under Node's 16 KB header limit, which answers before the app does.
  fc.integer({ min: 256, max: 4000 }).map((length) => 'x'.repeat(length)),
);
const queryParameter = fc
  .tuple(queryName, fc.option(queryValue), fc.boolean())
  .map(([name, value, encodeName]) => `${encodeName ? percentEncoded(name) : name}${value === null ? '' : `=${value}`}`);
const queryString = fc.oneof(
  fc.array(queryParameter, { maxLength: 8 }).map((parameters) => parameters.join('&')),
  // One parameter given several times.
  fc.tuple(queryParameter, fc.integer({ min: 2, max: 6 }), fc.array(queryParameter, { maxLength: 2 })).map(([repeated, times, others]) => [...Array<string>(times).fill(repeated), ...others].join('&')),
  fc.string({ unit: 'binary', maxLength: 200 }),
);
const listRequests = queryString.map((query) => fuzzRequest({ method: 'GET', path: `${ACCOUNTS}?${query.slice(0, 10_000)}` }));

// ---------------------------------------------------------------------------------------------
// Ids in paths.

const CROCKFORD_AND_NOT = '0123456789ABCDEFGHJKMNPQRSTVWXYZILOUabcxyz';
const SEEDED_ID_VARIANTS: [string, (id: string) => string][] = [
  ['lower case', (id) => id.toLowerCase()],
  ['a trailing slash', (id) => `${id}/`],
  ['a trailing dot', (id) => `${id}.`],
  ['an extension', (id) => `${id}.json`],
  ['a NUL', (id) => `${id}%00`],
  ['a space', (id) => `${id}%20`],
  ['one character short', (id) => id.slice(0, -1)],
  ['one character long', (id) => `${id}A`],
  ['an encoded underscore', (id) => id.replace('_', '%5F')],
  ['a matrix parameter', (id) => `${id};x=1`],
  ['a dot segment after it', (id) => `${id}/..`],
];
const pathId = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }).map(percentEncoded),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')),
  fc.constantFrom('%', '%%', '%G0', '%0', 'acc_%', '%u0041', '%C0%AF', '%ED%A0%80', '%00', '%FF'),
  // Almost an account id.
  fc.tuple(fc.constantFrom('acc_', 'ACC_', 'acc-', 'acc', 'acc__', 'key_', 'req_', ''), fc.string({ unit: fc.constantFrom(...CROCKFORD_AND_NOT), minLength: 24, maxLength: 28 })).map(([prefix, rest]) => prefix + rest),
  fc.tuple(fc.constantFrom('person' as const, 'business' as const), fc.constantFrom(...SEEDED_ID_VARIANTS)).map(([target, [, variant]]) => variant(seeded[target])),
  fc.integer({ min: 27, max: 8000 }).map((length) => `acc_${'0'.repeat(length)}`),
  fc.constantFrom('.', '..', '...', './', '../', '%2e', '%2e%2e', '.%2e', '%2F', '%2f%2e%2e', '..%2F..%2F', '%5C', '\\', '//', ';', '*', '~', '@', ':', '%3A', '!'),
);
const safeDecode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};
/** Redaction cannot be undone: the fuzzer never aims it at a seeded account. */
const namesSeeded = (id: string) => Object.values(seeded).some((seededId) => safeDecode(id).toUpperCase().includes(seededId.slice(4)));
const idRequests = fc
  .tuple(fc.constantFrom('GET', 'PATCH', 'status', 'redact', 'unknown sub-resource'), pathId)
  .filter(([operation, id]) => operation !== 'redact' || !namesSeeded(id))
  .map(([operation, id]) => {
    const path = `${ACCOUNTS}/${id}`;
    switch (operation) {
      case 'GET':
        return fuzzRequest({ method: 'GET', path });
      case 'PATCH':
        return fuzzRequest({ method: 'PATCH', path, json: { data: { type: 'account', id: safeDecode(id), attributes: { contact: { phone: '+15550100' } } } } });
      case 'status':
        return fuzzRequest({ method: 'POST', path: `${path}/status`, json: { data: { type: 'account-status-change', attributes: { status: 'suspended' } } } });
      case 'redact':
        return fuzzRequest({ method: 'POST', path: `${path}/redact` });
      default:
        return fuzzRequest({ method: 'GET', path: `${path}/documents` });
    }
  });

// ---------------------------------------------------------------------------------------------
// Header variants.

/** Header values Node's client will send: tab, visible ASCII, space and Latin-1 (0x80-0xff). */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.oneof(fc.constant(9), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength });
/**
 * Three long headers at most stay under Node's 16 KB limit on a request's head: past it, Node's own
 * parser answers 431, with no body, before the app sees the request.
 */
const LONG_HEADER = 4000;
/** Each header shrinks to its first, ordinary variant, so a counterexample keeps only the headers at fault. */
const CROSS_SHRINK = { withCrossShrink: true };
/** Resolved when the request is sent: the target's ETag at that moment. */
const CURRENT_ETAG = '<current ETag>';
const apiKey = fc.oneof(
  CROSS_SHRINK,
  { weight: 4, arbitrary: fc.constant(VALID_KEY) },
  fc.constant(undefined),
  fc.constantFrom(`${VALID_KEY} `, `\t${VALID_KEY}`, `${VALID_KEY}\u0085`, `${VALID_KEY}\u00a0`, `Bearer ${VALID_KEY}`, `${VALID_KEY}, ${VALID_KEY}`, `${VALID_KEY}x`, '', 'sk_staging_', 'null'),
  fc.stringMatching(/^sk_(staging|production|test)_[A-Za-z0-9]{0,140}$/),
  headerText(60),
  fc.integer({ min: 1000, max: LONG_HEADER }).map((length) => `sk_staging_${'a'.repeat(length)}`),
);
const ifMatch = fc.oneof(
  CROSS_SHRINK,
  { weight: 3, arbitrary: fc.constant(undefined) },
  fc.constantFrom(CURRENT_ETAG, `W/${CURRENT_ETAG}`, `${CURRENT_ETAG}, "0"`, 'W/"0"', '"abc"', '*', '"0", "1"', '""', '"', 'W/', '"-1"', '"1.5"', '"0x1"', ' "0" ', '"\u00bd"', '*, "0"'),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map((revision) => `"${revision}"`),
  headerText(30),
);
const contentType = fc.oneof(CROSS_SHRINK, { weight: 4, arbitrary: fc.constant('application/json') }, fc.constantFrom(...JSON_CONTENT_TYPES, ...ODD_CONTENT_TYPES), headerText(40));
const contentEncoding = fc.oneof(
  CROSS_SHRINK,
  { weight: 4, arbitrary: fc.constant(undefined) },
  fc.constantFrom('identity', 'gzip', 'deflate', 'br', 'zstd', 'gzip, gzip', 'x-gzip', ''),
  headerText(20),
);
const requestId = fc.oneof(CROSS_SHRINK, { weight: 2, arbitrary: fc.constant(undefined) }, headerText(60), fc.integer({ min: 129, max: LONG_HEADER }).map((length) => 'r'.repeat(length)));
const host = fc.oneof(
  CROSS_SHRINK,
  { weight: 2, arbitrary: fc.constant(undefined) },
  fc.constantFrom('example.com', 'EXAMPLE.COM', 'example.com:8080', 'example.com:99999', 'example.com:', ':80', '[::1]', '[::1', '::1', 'a b', 'a\tb', 'é.example', 'exa%mple.com', 'user@example.com', 'example.com/path', 'example.com?x', 'ex"ample', '<script>', '..', '', 'localhost,evil.example'),
  headerText(30),
);
const headerEndpoint = fc.oneof(
  createAttributes.map((attributes) => ({ method: 'POST' as const, path: ACCOUNTS, json: { data: { type: 'account', attributes } } })),
  fc.constantFrom('person' as const, 'business' as const).map((target) => ({ method: 'GET' as const, path: accountPath(target) })),
  patchOfTarget.map(({ target, attributes }) => ({ method: 'PATCH' as const, path: accountPath(target), json: { data: { type: 'account', id: seeded[target], attributes } } })),
  statusOfTarget.map(({ target, attributes }) => ({ method: 'POST' as const, path: accountPath(target, '/status'), json: { data: { type: 'account-status-change', attributes } } })),
  // Pages of one, so the answer carries links to follow.
  fc.constant({ method: 'GET' as const, path: `${ACCOUNTS}?page[size]=1` }),
  // Redaction cannot be undone: only of an account that does not exist.
  fc.constant({ method: 'POST' as const, path: `${ACCOUNTS}/${UNKNOWN_ID}/redact` }),
);
const headerRequests = fc
  .record({ endpoint: headerEndpoint, apiKey, ifMatch, contentType, contentEncoding, requestId, correlationId: requestId, host })
  .map(({ endpoint, ...headers }) =>
    fuzzRequest({
      ...endpoint,
      headers: Object.fromEntries(
        Object.entries({
          'X-Api-Key': headers.apiKey,
          'If-Match': headers.ifMatch,
          'Content-Type': headers.contentType,
          'Content-Encoding': headers.contentEncoding,
          'X-Request-Id': headers.requestId,
          'X-Correlation-Id': headers.correlationId,
          Host: headers.host,
          // An undefined X-Api-Key sends none (the suite's key is the default); other headers are simply left out.
        }).filter(([name, value]) => value !== undefined || name === 'X-Api-Key'),
      ),
    }),
  );

// ---------------------------------------------------------------------------------------------

/**
 * Runs of each property, and the seconds after which it stops early (and passes on the runs made).
 * On two cores the runs take about 25 s in all, 40 s on a loaded machine; the budgets cap the suite
 * near 105 s however slow the machine (6 × 3 × 4 s for the body families, 5 × 6 s for the rest).
 * FUZZ_RUNS multiplies both.
 */
const BUDGETS = {
  accountBodies: { runs: 80, seconds: 4 },
  statusBodies: { runs: 50, seconds: 4 },
  envelopes: { runs: 100, seconds: 6 },
  rawBodies: { runs: 120, seconds: 6 },
  listQueries: { runs: 300, seconds: 6 },
  idsInPaths: { runs: 150, seconds: 6 },
  headers: { runs: 150, seconds: 6 },
} satisfies Record<string, Budget>;

describe('fuzz: whatever is sent, no 5xx, no hang, a valid JSON:API error, and a refused write changes nothing', () => {
  const t = appForEachSuite();
  let state: TenantState;
  const watched = () => Object.values(seeded);

  beforeAll(async () => {
    seeded.person = (await t.create(SEEDED.person).expect(201)).body.data.id;
    seeded.business = (await t.create(SEEDED.business).expect(201)).body.data.id;
    state = await readState(t, watched());
  });

  /** Creates acknowledged with 201 since the count was last reconciled. */
  let acknowledgedCreates = 0;

  /**
   * The run fast-check started last. Its time limit abandons a run in progress, which goes on
   * (a predicate cannot be stopped): every run, and every count, first waits for it, so no two
   * requests overlap and each compares with a settled state.
   */
  let lastRun: Promise<void> = Promise.resolve();
  const settled = () => lastRun.catch(() => undefined);

  async function expectWellBehaved(request: FuzzRequest) {
    await settled();
    lastRun = wellBehaved(request);
    return lastRun;
  }

  /** Sends one request and checks every property; a write is followed by a look at what it changed. */
  async function wellBehaved(request: FuzzRequest) {
    const target = watched().find((id) => request.path.includes(id));
    const etag = target ? state.accounts[target].etag : '"0"';
    const resolved = { ...request, headers: Object.fromEntries(Object.entries(request.headers ?? {}).map(([name, value]) => [name, value?.replace(CURRENT_ETAG, etag)])) };
    const answer = await send(t, resolved);
    const problems = answerProblems(answer, t, request.json);
    const status = answer.response?.status ?? 0;
    if (request.method !== 'GET') {
      const before = state;
      // Refreshed after every write, refused or not, so the next request is compared with what is.
      state = await readState(t, watched());
      if (status === 201) acknowledgedCreates++;
      if (status >= 400 && status < 500) problems.push(...stateChanges(before, state).map((change) => `refused with ${status}, yet ${change}`));
    }
    if (problems.length) throw new Error(`answered ${answer.response?.status ?? 'nothing'} in ${Math.round(answer.ms)} ms:\n  ${problems.join('\n  ')}`);
  }

  /** Runs the property, then checks that the tenant holds exactly the accounts it acknowledged creating. */
  async function check(requests: fc.Arbitrary<FuzzRequest>, budget: Budget) {
    await settled();
    const countBefore = await countAccounts(t);
    acknowledgedCreates = 0;
    await fc.assert(fc.asyncProperty(requests, expectWellBehaved), fuzzParameters(budget));
    await settled();
    expect(await countAccounts(t)).toBe(countBefore + acknowledgedCreates);
  }

  describe.each(BODY_ENDPOINTS)('$name bodies, mutated at every attribute position', ({ name, textAt, anyAt, requests }) => {
    const budget = name === 'status change' ? BUDGETS.statusBodies : BUDGETS.accountBodies;
    it.each(FAMILIES)('$name', ({ mutation, perRequest }) => check(requests(fc.array(mutation(textAt, anyAt), { minLength: 1, maxLength: perRequest })), budget), jestTimeout(budget));
  });

  it('envelopes: data missing, null, an array or a wrong type; a wrong data.type; data.id present, absent or another', () => check(envelopeRequests, BUDGETS.envelopes), jestTimeout(BUDGETS.envelopes));

  it('raw bodies: not JSON, cut short, with a BOM, with bytes that are not UTF-8, numbers no double holds; odd content types', () => check(rawRequests, BUDGETS.rawBodies), jestTimeout(BUDGETS.rawBodies));

  it('list query strings: repeated, unknown and bracket-soup parameters, bad percent-encoding, huge values, random cursors', () => check(listRequests, BUDGETS.listQueries), jestTimeout(BUDGETS.listQueries));

  it('ids in paths: random and percent-encoded text, almost-valid acc_ ids, very long ids, dots and slashes', () => check(idRequests, BUDGETS.idsInPaths), jestTimeout(BUDGETS.idsInPaths));

  it('headers: API key absent or garbled, If-Match variants, Content-Type and Content-Encoding variants, garbage request ids and Host', () => check(headerRequests, BUDGETS.headers), jestTimeout(BUDGETS.headers));
});
