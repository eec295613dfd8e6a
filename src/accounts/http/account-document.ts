import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { isJsonObject } from '../../kernel/json';
import { cleanJson, HygieneProblem } from '../../http/json-hygiene';
import { childPath, tokensOf } from '../../http/json-pointer';
import { AttributeProblem } from '../domain/errors';
import { entityTypeProblems } from '../domain/decide';
import { AccountInput } from '../domain/shapes';
import { attributePointer, errorObject, JsonApiError, problemsError } from '../../http/jsonapi-error';
import { AccountAttributesDto, CreateAccountAttributesDto, isCalendarDate } from './account-attributes.dto';

// Reads a JSON:API request document for an account: first its envelope (docs/API.md), then
// every attribute rule at once, so one answer lists every problem with its source.pointer.

export const ACCOUNT_TYPE = 'account';

export function readCreateDocument(body: unknown, today: string): AccountInput & { entity_type: string } {
  const data = readEnvelope(body, ACCOUNT_TYPE);
  if (data.id !== undefined) {
    throw JsonApiError.of(403, 'client_generated_id', 'Account ids are made by the server: remove data.id', { source: { pointer: '/data/id' } });
  }
  const attributes = readAttributes(data, CreateAccountAttributesDto, today);
  return attributes as AccountInput & { entity_type: string };
}

export function readUpdateDocument(body: unknown, accountId: string, today: string): AccountInput {
  const data = readEnvelope(body, ACCOUNT_TYPE);
  if (data.id === undefined) throw JsonApiError.of(400, 'invalid_document', 'data.id is required and must equal the id in the path', { source: { pointer: '/data/id' } });
  if (data.id !== accountId) {
    throw JsonApiError.of(409, 'id_mismatch', 'data.id must equal the id in the path', { source: { pointer: '/data/id' } });
  }
  return readAttributes(data, AccountAttributesDto, today);
}

/** The JSON:API envelope every request document shares: `{ data: { type, id?, attributes? } }`. */
export function readEnvelope(body: unknown, type: string): Record<string, unknown> {
  if (!isJsonObject(body) || !isJsonObject(body.data)) {
    throw JsonApiError.of(400, 'invalid_document', 'The body must be a JSON:API document with a data object', { source: { pointer: '/data' } });
  }
  const { data } = body;
  if (data.type === undefined) throw JsonApiError.of(400, 'invalid_document', `data.type is required: "${type}"`, { source: { pointer: '/data/type' } });
  if (data.type !== type) throw JsonApiError.of(409, 'type_mismatch', `data.type must be "${type}"`, { source: { pointer: '/data/type' } });
  if (data.attributes !== undefined && !isJsonObject(data.attributes)) {
    throw JsonApiError.of(400, 'invalid_document', 'data.attributes must be an object of attribute names and their values', { source: { pointer: '/data/attributes' } });
  }
  return data;
}

function readAttributes(data: Record<string, unknown>, dto: typeof AccountAttributesDto | typeof CreateAccountAttributesDto, today: string): AccountInput {
  const { attributes, problems } = checkAttributes(dto, data.attributes ?? {});
  problems.push(...futureDateProblems(attributes, today));
  if (typeof attributes.entity_type === 'string') problems.push(...entityTypeProblems(attributes.entity_type, attributes as AccountInput));
  if (problems.length) throw invalidAttributes(problems);
  // The validated plain object, not the class instance: the domain works on data.
  return attributes as AccountInput;
}

/**
 * Every rule of the DTO that the attributes break, each with its path below /data/attributes, and
 * the attributes as the validators saw them. Hygiene comes first (src/http/json-hygiene.ts): the
 * validators get only a copy without inherited key names and unsafe text, each of which is one
 * problem of its own at its path, instead of whatever a validator would say of it (or throw).
 */
export function checkAttributes(dto: new () => object, raw: unknown): { attributes: Record<string, unknown>; problems: AttributeProblem[] } {
  const { clean, problems: hygiene } = cleanJson(raw);
  const attributes = clean as Record<string, unknown>;
  const instance = plainToInstance(dto, attributes);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  const flagged = new Set(hygiene.map((p) => p.path));
  const problems = [
    ...hygiene.map((p) => hygieneProblem(p, instance)),
    ...errors.flatMap((error) => toProblems(error, null)).filter((p) => !flagged.has(p.path)),
  ];
  return { attributes, problems };
}

/** How a detail names an attribute: its full path, dotted, e.g. `person.name.first` or `identity_numbers.0.class`. */
const attributeName = (path: string) => tokensOf(path).join('.');

function hygieneProblem({ path, kind }: HygieneProblem, instance: object): AttributeProblem {
  const name = attributeName(path);
  switch (kind) {
    case 'inherited_key':
      return { path, code: 'unknown_attribute', detail: unknownAttributeDetail(path, objectAt(instance, tokensOf(path).slice(0, -1))) };
    case 'control_character':
      return { path, code: 'invalid_attribute', detail: `${name} must not contain control characters (line breaks, tabs, NUL and the like)` };
    case 'lone_surrogate':
      return { path, code: 'invalid_attribute', detail: `${name} must be well-formed Unicode text: it holds half of a surrogate pair` };
  }
}

export function invalidAttributes(problems: AttributeProblem[]): JsonApiError {
  return problemsError(422, problems.map((p) => errorObject(422, p.code, p.detail, { source: { pointer: attributePointer(p.path) } })));
}

const CODES: Record<string, AttributeProblem['code']> = {
  whitelistValidation: 'unknown_attribute',
  readOnly: 'read_only_attribute',
  isDefined: 'missing_attribute',
};

// class-validator reports every failed rule of a property; a client needs the most basic one.
const PRECEDENCE = ['whitelistValidation', 'readOnly', 'isDefined', 'isArray', 'isObject', 'isString', 'isNumber'];

/**
 * Each rule's message (account-attributes.dto.ts) says what is allowed; the detail puts the full
 * path in front of it, which only this walk down the errors knows.
 */
function toProblems(error: ValidationError, parent: string | null, parentReported = false): AttributeProblem[] {
  const path = childPath(parent, error.property);
  const problems: AttributeProblem[] = [];
  const constraints = Object.entries(error.constraints ?? {});
  if (constraints.length) {
    // An entry that is not an object, below an object or array whose own rule already said so.
    if (parentReported && constraints.every(([c]) => c === 'nestedValidation')) return [];
    // Decorators run bottom-up, so the last entry is the first rule written on the property.
    const basic = PRECEDENCE.map((name) => constraints.find(([c]) => c === name)).find(Boolean);
    const [constraint, message] = basic ?? constraints.at(-1)!;
    const code = CODES[constraint] ?? 'invalid_attribute';
    const detail = code === 'unknown_attribute' ? unknownAttributeDetail(path, error.target) : `${attributeName(path)} ${message}`;
    problems.push({ path, code, detail });
  }
  for (const child of error.children ?? []) problems.push(...toProblems(child, path, problems.length > 0));
  return problems;
}

/** Names the unknown attribute and what its object may hold instead, as its DTO declares it. */
function unknownAttributeDetail(path: string, parent: unknown): string {
  const segments = tokensOf(path);
  const where = segments.length > 1 ? segments.slice(0, -1).join('.') : 'data.attributes';
  const allowed = typeof parent === 'object' && parent !== null ? writableNames(parent.constructor) : [];
  const instead = allowed.length ? `${where} may have only ${allowed.join(', ')}` : 'remove it';
  return `Unknown attribute "${attributeName(path)}": ${instead}`;
}

/** The attributes a DTO declares, in declaration order, but those only the server writes. */
function writableNames(dto: Function): string[] {
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const readOnly = new Set(rules.filter((r) => r.name === 'readOnly').map((r) => r.propertyName));
  return [...new Set(rules.map((r) => r.propertyName))].filter((name) => !readOnly.has(name));
}

/** The value below `root` at the path's segments (array indexes included), or undefined. */
function objectAt(root: unknown, segments: string[]): unknown {
  return segments.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined), root);
}

/** Dates of birth and registration may not lie in the future. */
function futureDateProblems(attributes: Record<string, unknown>, today: string): AttributeProblem[] {
  const dates: [string, unknown][] = [];
  const person = attributes.person;
  if (isJsonObject(person)) dates.push(['person/birth_date', person.birth_date]);
  const business = attributes.business;
  if (isJsonObject(business)) {
    dates.push(['business/registration_date', business.registration_date]);
    if (Array.isArray(business.shareholders)) {
      business.shareholders.forEach((s, i) => isJsonObject(s) && dates.push([`business/shareholders/${i}/date_of_birth`, s.date_of_birth]));
    }
  }
  return dates
    .filter(([, value]) => isCalendarDate(value) && value > today)
    .map(([path]) => ({ path, code: 'invalid_attribute' as const, detail: `${attributeName(path)} must not be in the future` }));
}

