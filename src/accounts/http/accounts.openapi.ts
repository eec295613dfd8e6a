import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiQuery } from '@nestjs/swagger';
import { JSONAPI_MEDIA_TYPE, MERGE_PATCH_MEDIA_TYPE } from '../../http/json-body';
import {
  ApiIdempotencyKey,
  ApiJsonApiBody,
  ApiJsonApiErrors,
  ApiJsonApiResponse,
  asSwaggerSchema,
  ErrorCodes,
  JsonSchema,
  mergeCodes,
  nullable,
  ref,
} from '../../openapi/jsonapi-openapi';
import { ACCOUNT_STATUSES, ENTITY_TYPES } from '../domain/account';
import { RELATED_ID_PATTERN, relatedIdRule, Relationship } from '../domain/relationships';
import { PRINTABLE } from './account-attributes.dto';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './list-query';

// The accounts slice in the OpenAPI document (docs/API.md in machine-readable form): its schemas,
// and one decorator per operation of AccountsController with its parameters, bodies, answers and
// every error code it can give. The e2e suite checks every answer it receives against these.

const TIMESTAMP: JsonSchema = { type: 'string', format: 'date-time', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$', description: 'RFC 3339, UTC, to the second' };
const DATE: JsonSchema = { type: 'string', format: 'date', description: 'A real calendar date YYYY-MM-DD' };
const COUNTRY: JsonSchema = { type: 'string', pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2, such as US or GB' };
const text = (max: number): JsonSchema => ({ type: 'string', minLength: 1, maxLength: max });
// idn-email (RFC 6531), not email: the service accepts addresses with letters beyond ASCII and quoted local parts (validator.js isEmail).
const EMAIL: JsonSchema = { type: 'string', format: 'idn-email', maxLength: 254, description: 'An email address (RFC 6531: letters beyond ASCII allowed)' };
const PHONE: JsonSchema = { type: 'string', pattern: '^\\+[0-9]{7,15}$', description: 'E.164: + and 7 to 15 digits' };
const SHARES: JsonSchema = { type: 'string', pattern: '^[0-9]{1,30}$', description: 'A whole number of shares, as a string' };
const PERCENTAGE: JsonSchema = { type: 'number', minimum: 0, maximum: 100 };
const IDENTITY_CLASS: JsonSchema = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,49}$', description: 'ssn, passport, national_id, tax_id, drivers_license, …' };
export const ACCOUNT_ID: JsonSchema = { type: 'string', pattern: '^acc_[0-9A-HJKMNP-TV-Z]{26}$', description: 'acc_ and a ULID' };
/** A session's (a document's) id as a request may name it: a UUID in any letter case. */
const relatedId = (relationship: Relationship): JsonSchema => ({ type: 'string', pattern: RELATED_ID_PATTERN[relationship].source, description: relatedIdRule(relationship) });
export const RELATED_ID: Record<Relationship, JsonSchema> = { sessions: relatedId('sessions'), documents: relatedId('documents') };
const EXTERNAL_ID: JsonSchema = { type: 'string', minLength: 1, maxLength: 255, pattern: PRINTABLE.source, description: 'Your own id for the account, unique per tenant' };

/** An object whose members are all present in answers, each as given. */
const complete = (properties: Record<string, JsonSchema>): JsonSchema => ({ type: 'object', required: Object.keys(properties), additionalProperties: false, properties });
/** An object of a request: any member may be left out. */
const partial = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});
/** A request document: other JSON:API members (meta, jsonapi, relationships...) are allowed and ignored. */
const requestDocument = (data: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  required: ['data'],
  properties: { data: { type: 'object', required, properties: data } },
});
const nullableAll = (properties: Record<string, JsonSchema>) => Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, nullable(schema)]));

const PERSON_NAME = { first: text(200), middle: text(200), last: text(200) };
const SHAREHOLDER = {
  name: text(200),
  shareholder_type: { type: 'string', enum: ENTITY_TYPES },
  date_of_birth: DATE,
  id_type: text(50),
  id_number: text(100),
  number_of_share: SHARES,
  percentage_of_share: PERCENTAGE,
};
const CONTACT = { email: EMAIL, phone: PHONE };
const ADDRESS = {
  line1: text(200),
  line2: text(200),
  sublocality: text(200),
  locality: text(200),
  administrative_area: text(200),
  postal_code: text(20),
  country_code: COUNTRY,
};

const resourceLinkage = (type: string): JsonSchema => ({
  type: 'object',
  required: ['data'],
  additionalProperties: false,
  properties: { data: { type: 'array', items: complete({ type: { const: type }, id: { type: 'string' } }) } },
});

const STATUS: JsonSchema = { type: 'string', enum: ACCOUNT_STATUSES };

/** What a create or a PATCH may send (docs/API.md, The account resource); the server sets the rest. */
const writableAttributes = (entityType: JsonSchema): Record<string, JsonSchema> => ({
  external_id: nullable(EXTERNAL_ID),
  entity_type: entityType,
  person: nullable(partial({ name: nullable(partial(nullableAll(PERSON_NAME))), birth_date: nullable(DATE), sex: nullable({ type: 'string', enum: ['female', 'male', 'other'] }) })),
  business: nullable(
    partial({
      legal_name: nullable(text(300)),
      registration_date: nullable(DATE),
      shareholders: nullable({ type: 'array', maxItems: 100, items: partial(nullableAll(SHAREHOLDER)) }),
    }),
  ),
  contact: nullable(partial(nullableAll(CONTACT))),
  address: nullable(partial(nullableAll(ADDRESS))),
  identity_numbers: nullable({
    type: 'array',
    maxItems: 20,
    items: partial({ number: text(100), issuing_country_code: nullable(COUNTRY), class: IDENTITY_CLASS }, ['number', 'class']),
  }),
});

export const ACCOUNT_SCHEMAS: Record<string, JsonSchema> = {
  Account: {
    type: 'object',
    description: 'An account: every attribute is always present, in this order; "none" is null (or [] for identity_numbers)',
    required: ['type', 'id', 'attributes', 'relationships'],
    additionalProperties: false,
    properties: {
      type: { const: 'account' },
      id: ACCOUNT_ID,
      attributes: complete({
        status: STATUS,
        external_id: nullable(EXTERNAL_ID),
        entity_type: { type: 'string', enum: ENTITY_TYPES },
        person: nullable(complete({ name: complete(nullableAll(PERSON_NAME)), birth_date: nullable(DATE), sex: nullable({ type: 'string', enum: ['female', 'male', 'other'] }) })),
        business: nullable(
          complete({ legal_name: nullable(text(300)), registration_date: nullable(DATE), shareholders: { type: 'array', maxItems: 100, items: complete(nullableAll(SHAREHOLDER)) } }),
        ),
        contact: nullable(complete(nullableAll(CONTACT))),
        address: nullable(complete(nullableAll(ADDRESS))),
        identity_numbers: {
          type: 'array',
          maxItems: 20,
          items: complete({ number: text(100), issuing_country_code: nullable(COUNTRY), class: IDENTITY_CLASS, created_at: TIMESTAMP, updated_at: nullable(TIMESTAMP) }),
        },
        created_at: TIMESTAMP,
        updated_at: nullable(TIMESTAMP),
        redacted_at: nullable(TIMESTAMP),
      }),
      relationships: complete({ sessions: resourceLinkage('session'), documents: resourceLinkage('document') }),
    },
  },
  AccountDocument: {
    type: 'object',
    required: ['data'],
    additionalProperties: false,
    properties: {
      data: ref('Account'),
      meta: {
        description: 'With as_of only: the point the account was read at, and whether its personal data is erased now',
        ...complete({ as_of: complete({ revision: { type: 'integer', minimum: 0 }, occurred_at: { type: 'string', format: 'date-time' } }), redacted: { type: 'boolean' } }),
      },
    },
  },
  AccountList: complete({ data: { type: 'array', items: ref('Account') }, links: ref('PageLinks') }),
  AccountCreate: requestDocument({ type: { const: 'account' }, attributes: partial(writableAttributes({ type: 'string', enum: ENTITY_TYPES }), ['entity_type']) }, ['type', 'attributes']),
  AccountUpdate: requestDocument(
    { type: { const: 'account' }, id: ACCOUNT_ID, attributes: partial(writableAttributes({ type: 'string', enum: ENTITY_TYPES, description: "The account's own: it cannot change" })) },
    ['type', 'id'],
  ),
  AccountStatusChange: requestDocument(
    {
      type: { const: 'account-status-change' },
      attributes: partial({ status: STATUS, reason: nullable({ type: 'string', maxLength: 500, description: 'Recorded with the change, as personal data: redaction erases it' }) }, ['status']),
    },
    ['type', 'attributes'],
  ),
};

// Examples: the guide's own (docs/API.md).
const JANE = {
  type: 'account',
  id: 'acc_01HQ3Z8N5V2YB7K4M9TXJ6CWDE',
  attributes: {
    status: 'pending',
    external_id: 'user-12345',
    entity_type: 'person',
    person: { name: { first: 'Jane', middle: null, last: 'Doe' }, birth_date: '1990-05-15', sex: null },
    business: null,
    contact: { email: 'jane@example.com', phone: '+1234567890' },
    address: null,
    identity_numbers: [{ number: '123-45-6789', issuing_country_code: 'US', class: 'ssn', created_at: '2024-05-15T09:30:00Z', updated_at: null }],
    created_at: '2024-05-15T09:30:00Z',
    updated_at: null,
    redacted_at: null,
  },
  relationships: { sessions: { data: [] }, documents: { data: [] } },
};
export const example = (summary: string, value: unknown) => ({ guide: { summary, value } });
const UPDATED_JANE = { ...JANE, attributes: { ...JANE.attributes, contact: { email: 'new-email@example.com', phone: '+1234567890' }, updated_at: '2024-05-16T10:00:00Z' } };

export const ETAG = { ETag: { description: 'The account\'s revision, "0" on create: send it back as If-Match', required: true, schema: asSwaggerSchema({ type: 'string', pattern: '^"\\d+"$' }) } };
const ACCOUNT_ANSWER = (description: string, value: unknown = JANE, options: { idempotent?: boolean } = {}) =>
  ApiJsonApiResponse(200, { description, schema: ref('AccountDocument'), headers: ETAG, examples: example('The account', { data: value }), ...options });

export const ID_PARAMETER = ApiParam({ name: 'id', description: 'The account id. An id that names no account of your tenant (unknown, malformed, another tenant\'s) is 404', schema: asSwaggerSchema(ACCOUNT_ID) });
export const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'The ETag the write requires, compared strongly (RFC 9110): an older revision is 412 stale_revision, a weak or foreign tag 412 precondition_failed; `*` or none: no condition',
  schema: { type: 'string' },
});

/** The same answers as a read: a write answers with the account as stored, once the read model has it. */
export const WRITE_ERRORS: ErrorCodes = { 409: ['concurrent_modification'], 503: ['read_model_lagging'] };
export const IF_MATCH_ERRORS: ErrorCodes = { 400: ['invalid_header'], 412: ['stale_revision', 'precondition_failed'] };
const ENVELOPE_ERRORS: ErrorCodes = { 400: ['invalid_document'], 409: ['type_mismatch'] };
const ATTRIBUTE_ERRORS: ErrorCodes = { 422: ['invalid_attribute', 'missing_attribute', 'unknown_attribute', 'read_only_attribute', 'too_many_problems'] };

const INVALID_BIRTH_DATE = {
  errors: [
    {
      status: '422',
      code: 'invalid_attribute',
      title: 'Unprocessable Entity',
      detail: 'person.birth_date must be a real calendar date YYYY-MM-DD, not before 1900-01-01 and not in the future',
      source: { pointer: '/data/attributes/person/birth_date' },
    },
  ],
};

export const CreateAccountDocs = () =>
  applyDecorators(
    ApiOperation({ operationId: 'createAccount', summary: 'Create an account', description: 'Scope `accounts:write`. The id is made by the server; `entity_type` is required.' }),
    ApiIdempotencyKey(),
    ApiJsonApiBody({
      description: 'The new account: any writable attributes; nested objects may be partial (members not sent are null)',
      schema: ref('AccountCreate'),
      examples: example('The guide\'s create', {
        data: { type: 'account', attributes: { external_id: 'user-12345', entity_type: 'person', person: { name: { first: 'Jane', last: 'Doe' }, birth_date: '1990-05-15' }, contact: { email: 'jane@example.com', phone: '+1234567890' } } },
      }),
    }),
    ApiJsonApiResponse(201, {
      description: 'Created: the account, status pending',
      schema: ref('AccountDocument'),
      idempotent: true,
      headers: { ...ETAG, Location: { description: "The new account's URL", required: true, schema: asSwaggerSchema({ type: 'string', format: 'uri' }) } },
      examples: example('The account', { data: JANE }),
    }),
    ApiJsonApiErrors(
      mergeCodes(ENVELOPE_ERRORS, ATTRIBUTE_ERRORS, WRITE_ERRORS, { 403: ['client_generated_id'], 409: ['external_id_taken', 'account_already_exists'] }),
      { body: true, idempotent: true, examples: { 422: example('A birth date that is not a real date', INVALID_BIRTH_DATE) } },
    ),
  );

export const ListAccountsDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'listAccounts',
      summary: 'List and look up accounts',
      description: 'Scope `accounts:read`. Newest first (created_at, then id); filters combine. Each parameter may be given once.',
    }),
    ApiQuery({ name: 'filter[external_id]', required: false, description: 'The account with this external id: a list of one, or none', schema: asSwaggerSchema(EXTERNAL_ID) }),
    ApiQuery({ name: 'filter[status]', required: false, schema: asSwaggerSchema(STATUS) }),
    ApiQuery({ name: 'filter[entity_type]', required: false, schema: asSwaggerSchema({ type: 'string', enum: ENTITY_TYPES }) }),
    ApiQuery({
      name: 'filter[session]',
      required: false,
      description: 'The accounts that link this verification session (a UUID in any letter case): usually a list of one',
      schema: asSwaggerSchema(RELATED_ID.sessions),
    }),
    ApiQuery({
      name: 'filter[document]',
      required: false,
      description: 'The accounts that link this document (a UUID in any letter case): usually a list of one',
      schema: asSwaggerSchema(RELATED_ID.documents),
    }),
    ApiQuery({ name: 'page[size]', required: false, schema: asSwaggerSchema({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }) }),
    ApiQuery({ name: 'page[after]', required: false, description: 'A cursor from links.next (opaque)', schema: { type: 'string' } }),
    ApiQuery({ name: 'page[before]', required: false, description: 'A cursor from links.prev (opaque); not with page[after]', schema: { type: 'string' } }),
    ApiJsonApiResponse(200, {
      description: 'A page of accounts. Its weak ETag is of the body, for HTTP caches; it is not a revision',
      schema: ref('AccountList'),
      headers: { ETag: { description: 'A weak tag of the body', required: true, schema: { type: 'string' } } },
      examples: example('One account', { data: [JANE], links: { prev: null, next: null } }),
    }),
    ApiJsonApiErrors({ 400: ['invalid_parameter', 'invalid_cursor', 'too_many_problems'], 503: ['read_model_lagging'] }),
  );

export const GetAccountDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'getAccount',
      summary: 'Read an account, now or as it was',
      description: 'Scope `accounts:read`; with `as_of`, `audit:read` too: the account folded from its stream up to that revision or time, with `meta.as_of`.',
    }),
    ID_PARAMETER,
    ApiQuery({
      name: 'as_of',
      required: false,
      description: 'A revision (a whole number) or an RFC 3339 time: the account as it was then. Needs audit:read as well',
      schema: { type: 'string' },
    }),
    ACCOUNT_ANSWER('The account, with its revision as ETag'),
    ApiJsonApiErrors({ 400: ['invalid_parameter'], 404: ['account_not_found'], 503: ['read_model_lagging'] }, { pathParameters: true }),
  );

export const UpdateAccountDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'updateAccount',
      summary: 'Update an account (RFC 7396 merge)',
      description:
        'Scope `accounts:write`. Attributes not sent are kept, null clears, objects merge member by member, arrays are replaced whole. A PATCH that changes nothing answers the account as it was (same ETag).',
    }),
    ID_PARAMETER,
    IF_MATCH,
    ApiJsonApiBody({
      description: 'The changes',
      schema: ref('AccountUpdate'),
      mediaTypes: ['application/json', JSONAPI_MEDIA_TYPE, MERGE_PATCH_MEDIA_TYPE],
      examples: example('A new email', { data: { type: 'account', id: JANE.id, attributes: { contact: { email: 'new-email@example.com' } } } }),
    }),
    ACCOUNT_ANSWER('The account as changed, with its new ETag', UPDATED_JANE),
    ApiJsonApiErrors(mergeCodes(ENVELOPE_ERRORS, ATTRIBUTE_ERRORS, WRITE_ERRORS, IF_MATCH_ERRORS, { 404: ['account_not_found'], 409: ['id_mismatch', 'external_id_taken', 'account_redacted'] }), {
      body: true,
      pathParameters: true,
    }),
  );

export const ChangeStatusDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'changeAccountStatus',
      summary: 'Change the status',
      description:
        'Scope `accounts:write`. pending → active | inactive | suspended; active → inactive | suspended; suspended → active | inactive; inactive → active | pending. The current status again changes nothing.',
    }),
    ID_PARAMETER,
    IF_MATCH,
    ApiIdempotencyKey(),
    ApiJsonApiBody({
      description: 'The new status, and why',
      schema: ref('AccountStatusChange'),
      examples: example('Activate', { data: { type: 'account-status-change', attributes: { status: 'active', reason: 'documents verified' } } }),
    }),
    ACCOUNT_ANSWER('The account with its new status and ETag', { ...JANE, attributes: { ...JANE.attributes, status: 'active', updated_at: '2024-05-16T10:00:00Z' } }, { idempotent: true }),
    ApiJsonApiErrors(
      mergeCodes(ENVELOPE_ERRORS, WRITE_ERRORS, IF_MATCH_ERRORS, {
        404: ['account_not_found'],
        409: ['invalid_status_transition', 'account_redacted'],
        422: ['invalid_attribute', 'missing_attribute', 'unknown_attribute', 'too_many_problems'],
      }),
      { body: true, pathParameters: true, idempotent: true },
    ),
  );

export const RedactAccountDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'redactAccount',
      summary: 'Erase the personal data, irreversibly',
      description:
        "Scope `accounts:write`. person, business, contact, address, identity_numbers and status change reasons are erased for good (the account's key is destroyed); the account is frozen afterwards. Redacting again changes nothing.",
    }),
    ID_PARAMETER,
    IF_MATCH,
    ApiIdempotencyKey(),
    ApiJsonApiBody({ description: 'None needed: a JSON body is read and ignored', schema: {}, required: false }),
    ACCOUNT_ANSWER('The redacted account and its new ETag', {
      ...JANE,
      attributes: { ...JANE.attributes, person: null, contact: null, identity_numbers: [], updated_at: null, redacted_at: '2024-05-16T10:00:00Z' },
    }, { idempotent: true }),
    ApiJsonApiErrors(mergeCodes(WRITE_ERRORS, IF_MATCH_ERRORS, { 404: ['account_not_found'] }), { body: true, pathParameters: true, idempotent: true }),
  );
