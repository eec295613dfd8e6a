import type { Response } from 'supertest';
import { ACCOUNTS, appForEachSuite } from '../support/app-harness';
import { ErrorObject, nameOfPointer, wordingProblem } from '../support/error-wording';

// Every attribute rule, broken once, on create and on PATCH: each answer names the full attribute
// path in words and says what is allowed, never in class-validator's default wording. (Every other
// error answer of the whole test run is checked the same way by test/support/record-error-wording.ts.)

const NEXT_YEAR = new Date().getUTCFullYear() + 1;
const FUTURE = `${NEXT_YEAR}-01-01`;

/** `{ a: { b: value } }` for the path `a/b`; numeric segments make arrays. */
function at(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('/')
    .reduceRight<unknown>((inner, key) => (/^\d+$/.test(key) ? Object.assign([], { [Number(key)]: inner }) : { [key]: inner }), value) as Record<string, unknown>;
}

const VALID_NUMBER = { number: '123-45-6789', class: 'ssn' };

/** [the path at fault, below /data/attributes; a wrong value there], for person accounts. */
const PERSON_RULES: [string, unknown][] = [
  ['external_id', 5],
  ['external_id', ''],
  ['external_id', 'x'.repeat(256)],
  ['external_id', 'line\nbreak'],
  ['status', 'active'],
  ['created_at', '2020-01-01T00:00:00Z'],
  ['updated_at', null],
  ['redacted_at', '2020-01-01T00:00:00Z'],
  ['nickname', 'Jay'],
  ['person', 'x'],
  ['person', []],
  ['person/height', 180],
  ['person/name', 'Jane'],
  ['person/name/nick', 'J'],
  ['person/name/first', 7],
  ['person/name/first', ''],
  ['person/name/middle', 'x'.repeat(201)],
  ['person/name/last', { constructor: 1 }],
  ['person/constructor', 1],
  ['person/birth_date', '2001-02-30'],
  ['person/birth_date', '1899-12-31'],
  ['person/birth_date', FUTURE],
  ['person/birth_date', 19900515],
  ['person/sex', 'unknown'],
  ['business', { legal_name: 'Acme Ltd' }],
  ['contact', 'x'],
  ['contact/fax', '+1234567'],
  ['contact/email', 5],
  ['contact/email', 'jane.example.com'],
  ['contact/email', `${'a'.repeat(250)}@example.com`],
  ['contact/phone', 5],
  ['contact/phone', '555-1234'],
  ['address', [1]],
  ['address/planet', 'Mars'],
  ['address/line1', 7],
  ['address/line2', ''],
  ['address/sublocality', 'x'.repeat(201)],
  ['address/locality', 7],
  ['address/administrative_area', ''],
  ['address/postal_code', 'x'.repeat(21)],
  ['address/country_code', 'XX'],
  ['address/country_code', 5],
  ['identity_numbers', 'x'],
  ['identity_numbers', Array.from({ length: 21 }, (_, i) => ({ number: String(i), class: `c${i}` }))],
  ['identity_numbers', [[VALID_NUMBER]]],
  ['identity_numbers', ['x']],
  ['identity_numbers/0/number', [{ class: 'ssn' }]],
  ['identity_numbers/0/number', [{ number: 5, class: 'ssn' }]],
  ['identity_numbers/0/number', [{ number: '', class: 'ssn' }]],
  ['identity_numbers/0/class', [{ number: '1' }]],
  ['identity_numbers/0/class', [{ number: '1', class: 'SSN' }]],
  ['identity_numbers/0/class', [{ number: '1', class: 5 }]],
  ['identity_numbers/0/issuing_country_code', [{ ...VALID_NUMBER, issuing_country_code: 'XX' }]],
  ['identity_numbers/0/created_at', [{ ...VALID_NUMBER, created_at: '2020-01-01T00:00:00Z' }]],
  ['identity_numbers/0/expires', [{ ...VALID_NUMBER, expires: '2030-01-01' }]],
];

const SHAREHOLDER = { name: 'Ada', shareholder_type: 'person', number_of_share: '10', percentage_of_share: 10 };

/** The same for business accounts. */
const BUSINESS_RULES: [string, unknown][] = [
  ['person', { name: { first: 'Jane' } }],
  ['business', 'x'],
  ['business/ceo', 'Ada'],
  ['business/legal_name', 7],
  ['business/legal_name', ''],
  ['business/legal_name', 'x'.repeat(301)],
  ['business/registration_date', '1799-12-31'],
  ['business/registration_date', FUTURE],
  ['business/registration_date', 'yesterday'],
  ['business/shareholders', 'x'],
  ['business/shareholders', Array.from({ length: 101 }, () => SHAREHOLDER)],
  ['business/shareholders', [[SHAREHOLDER]]],
  ['business/shareholders', [null]],
  ['business/shareholders/0/age', [{ ...SHAREHOLDER, age: 40 }]],
  ['business/shareholders/0/name', [{ ...SHAREHOLDER, name: 7 }]],
  ['business/shareholders/0/shareholder_type', [{ ...SHAREHOLDER, shareholder_type: 'robot' }]],
  ['business/shareholders/0/date_of_birth', [{ ...SHAREHOLDER, date_of_birth: '1990-13-01' }]],
  ['business/shareholders/0/date_of_birth', [{ ...SHAREHOLDER, date_of_birth: FUTURE }]],
  ['business/shareholders/0/id_type', [{ ...SHAREHOLDER, id_type: 'x'.repeat(51) }]],
  ['business/shareholders/0/id_number', [{ ...SHAREHOLDER, id_number: '' }]],
  ['business/shareholders/0/number_of_share', [{ ...SHAREHOLDER, number_of_share: 500 }]],
  ['business/shareholders/0/number_of_share', [{ ...SHAREHOLDER, number_of_share: '12a' }]],
  ['business/shareholders/0/number_of_share', [{ ...SHAREHOLDER, number_of_share: '1'.repeat(31) }]],
  ['business/shareholders/0/percentage_of_share', [{ ...SHAREHOLDER, percentage_of_share: '50' }]],
  ['business/shareholders/0/percentage_of_share', [{ ...SHAREHOLDER, percentage_of_share: -1 }]],
  ['business/shareholders/0/percentage_of_share', [{ ...SHAREHOLDER, percentage_of_share: 100.5 }]],
];

/** The attributes with `value` at `path`; a value given for a whole array is the array itself. */
function attributesWith(path: string, value: unknown): Record<string, unknown> {
  const arrayAt = /^(identity_numbers|business\/shareholders)\/0\//.exec(path);
  return arrayAt ? at(arrayAt[1], value) : at(path, value);
}

/** Each error answers with its place and a detail a person can act on; the expected place is among them. */
function expectActionable(response: Response, pointer: string) {
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  const errors = response.body.errors as ErrorObject[];
  expect(errors.map((e) => e.source?.pointer)).toContain(pointer);
  expect(errors.map(wordingProblem).filter(Boolean)).toEqual([]);
  const atPointer = errors.find((e) => e.source?.pointer === pointer)!;
  expect(atPointer.detail).toContain(nameOfPointer(pointer));
}

describe('error wording: every rule names the full attribute path and what is allowed', () => {
  const t = appForEachSuite();
  let person: string;
  let business: string;

  beforeAll(async () => {
    person = (await t.create({ entity_type: 'person' }).expect(201)).body.data.id;
    business = (await t.create({ entity_type: 'business' }).expect(201)).body.data.id;
  });

  const cases = [
    ...PERSON_RULES.map(([path, value]) => ['person', path, value] as const),
    ...BUSINESS_RULES.map(([path, value]) => ['business', path, value] as const),
  ];

  it.each(cases)('%s account, %s: on create and on PATCH', async (entityType, path, value) => {
    const attributes = attributesWith(path, value);
    const pointer = `/data/attributes/${path}`;
    expectActionable(await t.create({ entity_type: entityType, ...attributes }), pointer);
    expectActionable(await t.patch(entityType === 'person' ? person : business, attributes), pointer);
  });

  it('says entity_type is required on create, and what it may be', async () => {
    const missing = await t.create({});
    expectActionable(missing, '/data/attributes/entity_type');
    expect(missing.body.errors[0].detail).toBe('entity_type is required: person or business');
    const wrong = await t.create({ entity_type: 'robot' });
    expectActionable(wrong, '/data/attributes/entity_type');
    expect(wrong.body.errors[0].detail).toBe('entity_type must be person or business');
    expectActionable(await t.patch(person, { entity_type: 'robot' }), '/data/attributes/entity_type');
    expectActionable(await t.patch(person, { entity_type: 'business' }), '/data/attributes/entity_type');
  });

  it('names the attribute and the allowed values in status changes', async () => {
    const change = (attributes: Record<string, unknown>) =>
      t.http().post(`${ACCOUNTS}/${person}/status`).set('X-Api-Key', t.key).send({ data: { type: 'account-status-change', attributes } });
    expectActionable(await change({}), '/data/attributes/status');
    const frozen = await change({ status: 'frozen' });
    expectActionable(frozen, '/data/attributes/status');
    expect(frozen.body.errors[0].detail).toBe('status must be one of active, pending, inactive, suspended');
    expectActionable(await change({ status: 'active', reason: 5 }), '/data/attributes/reason');
    expectActionable(await change({ status: 'active', reason: 'x'.repeat(501) }), '/data/attributes/reason');
    expectActionable(await change({ status: 'active', note: 'x' }), '/data/attributes/note');

    await change({ status: 'active' }).expect(200);
    const forbidden = await change({ status: 'pending' });
    expect(forbidden.status).toBe(409);
    expectActionable(forbidden, '/data/attributes/status');
    expect(forbidden.body.errors[0].detail).toBe('status cannot go from active to pending: from active, an account can go to inactive or suspended');
  });

  it('shows the wording a person reads, for a few typical mistakes', async () => {
    const response = await t.create({
      entity_type: 'person',
      person: { name: { first: '', nick: 'J' } },
      identity_numbers: [{ class: 'SSN' }],
    });
    expect(response.body.errors.map((e: ErrorObject) => e.detail)).toEqual(
      expect.arrayContaining([
        'person.name.first must be a string of 1 to 200 characters',
        'Unknown attribute "person.name.nick": person.name may have only first, middle, last',
        'identity_numbers.0.number is required: a string of 1 to 100 characters',
        'identity_numbers.0.class must be a lowercase token of letters, digits and _ (up to 50, starting with a letter), such as ssn, passport, national_id, tax_id or drivers_license',
      ]),
    );
  });
});
