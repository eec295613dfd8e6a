import { applyDecorators } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { ApiIdempotencyKey, ApiJsonApiBody, ApiJsonApiErrors, ApiJsonApiResponse, ErrorCodes, JsonSchema, mergeCodes, ref } from '../../openapi/jsonapi-openapi';
import { MAX_LINKED, RELATED_TYPE, Relationship, RELATIONSHIPS } from '../domain/relationships';
import { ETAG, example, ID_PARAMETER, IF_MATCH, IF_MATCH_ERRORS, RELATED_ID, WRITE_ERRORS } from './accounts.openapi';

// The relationships of an account in the OpenAPI document (docs/API.md, Relationships: sessions
// and documents): one decorator per operation of AccountRelationshipsController, for each of
// /relationships/sessions and /relationships/documents.

const SCHEMA_NAME: Record<Relationship, { request: string; answer: string }> = {
  sessions: { request: 'SessionLinkageRequest', answer: 'SessionLinkage' },
  documents: { request: 'DocumentLinkageRequest', answer: 'DocumentLinkage' },
};

/** A member of the linkage: `{ "type": "session", "id": "sess_…" }`. */
const identifier = (relationship: Relationship, closed: boolean): JsonSchema => ({
  type: 'object',
  required: ['type', 'id'],
  // In a request, other members of an identifier (meta) are allowed and ignored.
  ...(closed ? { additionalProperties: false } : {}),
  properties: { type: { const: RELATED_TYPE[relationship] }, id: RELATED_ID[relationship] },
});

export const ACCOUNT_RELATIONSHIP_SCHEMAS: Record<string, JsonSchema> = Object.fromEntries(
  RELATIONSHIPS.flatMap((relationship) => [
    [
      SCHEMA_NAME[relationship].request,
      {
        type: 'object',
        description: `The ${relationship} to link or unlink; \`[]\` changes nothing. An id named twice counts once`,
        required: ['data'],
        properties: { data: { type: 'array', items: identifier(relationship, false) } },
      },
    ],
    [
      SCHEMA_NAME[relationship].answer,
      {
        type: 'object',
        description: `Every ${RELATED_TYPE[relationship]} the account links, oldest link first (at most ${MAX_LINKED}); a UUID in lower case`,
        required: ['data', 'links'],
        additionalProperties: false,
        properties: {
          data: { type: 'array', maxItems: MAX_LINKED, items: identifier(relationship, true) },
          links: { type: 'object', required: ['self'], additionalProperties: false, properties: { self: { type: 'string', format: 'uri' } } },
        },
      },
    ],
  ]),
);

// Examples: the guide's own (docs/API.md).
const EXAMPLE_ID: Record<Relationship, string> = { sessions: 'sess_01HQ3Z8N5V2YB7K4M9TXJ6CW01', documents: 'doc_01HQ3Z8N5V2YB7K4M9TXJ6CW02' };
const linkage = (relationship: Relationship) => ({ data: [{ type: RELATED_TYPE[relationship], id: EXAMPLE_ID[relationship] }] });
const answer = (relationship: Relationship) => ({
  ...linkage(relationship),
  links: { self: `https://kyc.example.com/v1/identity/accounts/acc_01HQ3Z8N5V2YB7K4M9TXJ6CWDE/relationships/${relationship}` },
});

const LINKAGE_ANSWER = (relationship: Relationship, description: string, options: { idempotent?: boolean } = {}) =>
  ApiJsonApiResponse(200, {
    description,
    schema: ref(SCHEMA_NAME[relationship].answer),
    headers: ETAG,
    examples: example(`The account's ${relationship}`, answer(relationship)),
    ...options,
  });

const LINKAGE_BODY = (relationship: Relationship, description: string) =>
  ApiJsonApiBody({ description, schema: ref(SCHEMA_NAME[relationship].request), examples: example(`One ${RELATED_TYPE[relationship]}`, linkage(relationship)) });

/** What a link or an unlink can answer besides what any write can. */
const CHANGE_ERRORS: ErrorCodes = mergeCodes(WRITE_ERRORS, IF_MATCH_ERRORS, {
  400: ['invalid_document'],
  404: ['account_not_found'],
  409: ['type_mismatch', 'account_redacted'],
  422: ['invalid_related_id', 'too_many_problems'],
});

const INVALID_RELATED_ID = (relationship: Relationship) => ({
  errors: [
    {
      status: '422',
      code: 'invalid_related_id',
      title: 'Unprocessable Entity',
      detail: `data.0.id must be ${relationship === 'sessions' ? 'sess_' : 'doc_'} followed by a ULID (26 characters), or a UUID`,
      source: { pointer: '/data/0/id' },
    },
  ],
});

const capitalized = (relationship: Relationship) => relationship[0].toUpperCase() + relationship.slice(1);

export const ReadRelatedDocs = (relationship: Relationship) =>
  applyDecorators(
    ApiOperation({
      operationId: `getAccount${capitalized(relationship)}`,
      summary: `The account's linked ${relationship}`,
      description: `Scope \`accounts:read\`. Every ${RELATED_TYPE[relationship]} the account links, oldest link first, with the account's ETag.`,
    }),
    ID_PARAMETER,
    LINKAGE_ANSWER(relationship, `The ${relationship} relationship, with the account's revision as ETag`),
    ApiJsonApiErrors({ 404: ['account_not_found'], 503: ['read_model_lagging'] }, { pathParameters: true }),
  );

export const LinkRelatedDocs = (relationship: Relationship) =>
  applyDecorators(
    ApiOperation({
      operationId: `linkAccount${capitalized(relationship)}`,
      summary: `Link ${relationship} to the account`,
      description: `Scope \`accounts:write\`. Links each ${RELATED_TYPE[relationship]} the body names and the account does not link yet (one \`account.${RELATED_TYPE[relationship]}_linked\` event each); one it links already changes nothing. At most ${MAX_LINKED} per account: beyond, 422 \`relationship_limit_exceeded\` and none is linked.`,
    }),
    ID_PARAMETER,
    IF_MATCH,
    ApiIdempotencyKey(),
    LINKAGE_BODY(relationship, `The ${relationship} to link`),
    LINKAGE_ANSWER(relationship, `The whole ${relationship} relationship after the change, with the account's ETag`, { idempotent: true }),
    ApiJsonApiErrors(mergeCodes(CHANGE_ERRORS, { 422: ['relationship_limit_exceeded'] }), {
      body: true,
      pathParameters: true,
      idempotent: true,
      examples: { 422: example('A malformed id', INVALID_RELATED_ID(relationship)) },
    }),
  );

export const UnlinkRelatedDocs = (relationship: Relationship) =>
  applyDecorators(
    ApiOperation({
      operationId: `unlinkAccount${capitalized(relationship)}`,
      summary: `Unlink ${relationship} from the account`,
      description: `Scope \`accounts:write\`. Unlinks each ${RELATED_TYPE[relationship]} the body names that the account links (one \`account.${RELATED_TYPE[relationship]}_unlinked\` event each); one it does not link changes nothing.`,
    }),
    ID_PARAMETER,
    IF_MATCH,
    LINKAGE_BODY(relationship, `The ${relationship} to unlink`),
    LINKAGE_ANSWER(relationship, `The whole ${relationship} relationship after the change, with the account's ETag`),
    ApiJsonApiErrors(CHANGE_ERRORS, { body: true, pathParameters: true, examples: { 422: example('A malformed id', INVALID_RELATED_ID(relationship)) } }),
  );
