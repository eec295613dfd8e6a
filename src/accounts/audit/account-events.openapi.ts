import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery } from '@nestjs/swagger';
import { ApiJsonApiErrors, ApiJsonApiResponse, asSwaggerSchema, JsonSchema, ref } from '../../openapi/jsonapi-openapi';
import { ACCOUNT_EVENT_TYPES } from '../domain/events';
import { ACCOUNT_ID } from '../http/accounts.openapi';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../http/list-query';

// The audit slice in the OpenAPI document: an account's event trail (docs/API.md, The event trail).

const nullableString: JsonSchema = { type: ['string', 'null'] };

export const ACCOUNT_EVENT_SCHEMAS: Record<string, JsonSchema> = {
  AccountEvent: {
    type: 'object',
    required: ['type', 'id', 'attributes', 'relationships'],
    additionalProperties: false,
    properties: {
      type: { const: 'account-event' },
      id: { type: 'string', format: 'uuid' },
      attributes: {
        type: 'object',
        additionalProperties: false,
        required: ['event_type', 'revision', 'occurred_at', 'actor', 'request_id', 'correlation_id', 'causation_id', 'changes', 'prev_hash', 'hash'],
        properties: {
          event_type: { type: 'string', enum: ACCOUNT_EVENT_TYPES },
          revision: { type: 'integer', minimum: 0, description: "The event's place in the stream, from 0: the ETag the account had after it" },
          occurred_at: { type: 'string', format: 'date-time', description: 'When the store recorded it, to the millisecond' },
          actor: {
            type: 'object',
            description: "The API key's tenant and id, never the key",
            additionalProperties: false,
            required: ['organization_id', 'environment', 'api_key_id'],
            properties: { organization_id: nullableString, environment: { type: ['string', 'null'], enum: ['production', 'staging', null] }, api_key_id: nullableString },
          },
          request_id: nullableString,
          correlation_id: nullableString,
          causation_id: nullableString,
          changes: {
            type: 'object',
            description: 'The event\'s fields, decrypted; every personal value reads "[redacted]" once the account is redacted (docs/EVENTS.md)',
          },
          prev_hash: { type: ['string', 'null'], pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the previous event of the stream' },
          hash: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of this event' },
        },
      },
      relationships: {
        type: 'object',
        additionalProperties: false,
        required: ['account'],
        properties: {
          account: {
            type: 'object',
            required: ['data'],
            additionalProperties: false,
            properties: { data: { type: 'object', required: ['type', 'id'], additionalProperties: false, properties: { type: { const: 'account' }, id: ACCOUNT_ID } } },
          },
        },
      },
    },
  },
  AccountEventList: {
    type: 'object',
    required: ['data', 'links'],
    additionalProperties: false,
    properties: { data: { type: 'array', items: ref('AccountEvent') }, links: ref('PageLinks') },
  },
};

const CREATED_EVENT = {
  type: 'account-event',
  id: '08c673f7-d236-4fcd-a9ee-b69f98a9d72a',
  attributes: {
    event_type: 'account.created',
    revision: 0,
    occurred_at: '2026-05-01T14:34:19.194Z',
    actor: { organization_id: 'default', environment: 'staging', api_key_id: 'key_01M8EPVDK9TNXB4957DZAY8RBB' },
    request_id: 'req_01M8EPVDKTH2SYE93913XT2NC0',
    correlation_id: 'req_01M8EPVDKTH2SYE93913XT2NC0',
    causation_id: 'req_01M8EPVDKTH2SYE93913XT2NC0',
    changes: {
      tenant: { organization_id: 'default', environment: 'staging' },
      entity_type: 'person',
      external_id: 'user-12345',
      created_at: '2026-05-01T14:34:19Z',
      person: { name: { first: 'Jane', middle: null, last: 'Doe' }, birth_date: null, sex: null },
      business: null,
      contact: { email: 'jane@example.com', phone: null },
      address: null,
      identity_numbers: [],
    },
    prev_hash: null,
    hash: '7637eed4b5598c466e66448c211c1cb3e0617a854a8acf6b1ac0ee303cfe5fb2',
  },
  relationships: { account: { data: { type: 'account', id: 'acc_01M8EPVDNJSA5RMM9A87WPNEMX' } } },
};

export const AccountEventsDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'listAccountEvents',
      summary: "An account's event trail",
      description: 'Scope `audit:read`. Oldest first: who changed what, when and why, read from the account\'s stream. Paged like the list.',
    }),
    ApiParam({ name: 'id', description: 'The account id', schema: asSwaggerSchema(ACCOUNT_ID) }),
    ApiQuery({
      name: 'filter[event_type]',
      required: false,
      description: `One or more of ${ACCOUNT_EVENT_TYPES.join(', ')}, separated by commas`,
      schema: { type: 'string' },
    }),
    ApiQuery({ name: 'page[size]', required: false, schema: asSwaggerSchema({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }) }),
    ApiQuery({ name: 'page[after]', required: false, description: 'A cursor from links.next (opaque)', schema: { type: 'string' } }),
    ApiQuery({ name: 'page[before]', required: false, description: 'A cursor from links.prev (opaque); not with page[after]', schema: { type: 'string' } }),
    ApiJsonApiResponse(200, {
      description: 'A page of events',
      schema: ref('AccountEventList'),
      headers: { ETag: { description: 'A weak tag of the body', required: true, schema: { type: 'string' } } },
      examples: { guide: { summary: 'The first event of the guide\'s account', value: { data: [CREATED_EVENT], links: { prev: null, next: null } } } },
    }),
    ApiJsonApiErrors({ 400: ['invalid_parameter', 'invalid_cursor', 'too_many_problems'], 404: ['account_not_found'] }, { pathParameters: true }),
  );
