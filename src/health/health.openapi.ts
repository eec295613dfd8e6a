import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { asSwaggerSchema, JsonSchema, ref } from '../openapi/jsonapi-openapi';

// The probes in the OpenAPI document: terminus's result, plain JSON.

const INDICATORS: JsonSchema = {
  type: 'object',
  description: 'One entry per check: status up or down, and what it measured',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { enum: ['up', 'down'] },
      reason: { type: 'string', description: 'Why a check is down, in a word: unreachable, no answer in time' },
      following: { type: 'boolean', description: 'projection: whether it follows the event store' },
      lag_ms: { type: 'integer', minimum: 0, description: 'projection: age of the oldest event the read model has not applied' },
      max_lag_ms: { type: 'integer', minimum: 0, description: 'projection: READY_MAX_LAG_MS' },
    },
  },
};

export const HEALTH_SCHEMAS: Record<string, JsonSchema> = {
  HealthCheckResult: {
    type: 'object',
    description: "@nestjs/terminus's answer",
    required: ['status', 'info', 'error', 'details'],
    additionalProperties: false,
    properties: {
      status: { enum: ['ok', 'error', 'shutting_down'], description: 'shutting_down: the service is stopping (SIGTERM)' },
      info: { ...INDICATORS, description: 'The checks that are up' },
      error: { ...INDICATORS, description: 'The checks that are down' },
      details: { ...INDICATORS, description: 'Every check' },
    },
  },
};

const NO_STORE = { 'Cache-Control': { description: 'Never cached', required: true, schema: { type: 'string' } } };
const X_REQUEST_ID = { 'X-Request-Id': { description: "The request's id", required: true, schema: { type: 'string' } } };

const result = (status: number, description: string, value: unknown) =>
  ApiResponse({ status, description, headers: { ...NO_STORE, ...X_REQUEST_ID }, schema: asSwaggerSchema(ref('HealthCheckResult')), examples: { example: { summary: description, value } } });

const READY = {
  status: 'ok',
  info: {
    event_store: { status: 'up' },
    read_model: { status: 'up' },
    data_keys: { status: 'up' },
    api_keys: { status: 'up' },
    projection: { status: 'up', following: true, lag_ms: 0, max_lag_ms: 10000 },
  },
  error: {},
  details: {},
};
READY.details = READY.info;

export const LivenessDocs = () =>
  applyDecorators(
    ApiTags('operations'),
    ApiProduces('application/json'),
    ApiOperation({ operationId: 'liveness', summary: 'Liveness', description: 'No key. 200 while the process answers HTTP; no store is checked. 503 while it is stopping.' }),
    result(200, 'Alive', { status: 'ok', info: {}, error: {}, details: {} }),
    result(503, 'Shutting down', { status: 'shutting_down', info: {}, error: {}, details: {} }),
  );

export const ReadinessDocs = () =>
  applyDecorators(
    ApiTags('operations'),
    ApiProduces('application/json'),
    ApiOperation({
      operationId: 'readiness',
      summary: 'Readiness',
      description:
        'No key. 200 when every store answers (event store, read model, data keys, API keys) and the read model is at most READY_MAX_LAG_MS behind the event store with its projection running; else 503 naming what is down. 503 while it is stopping.',
    }),
    result(200, 'Ready', READY),
    result(503, 'Not ready, or shutting down', {
      status: 'error',
      info: { event_store: { status: 'up' }, data_keys: { status: 'up' }, api_keys: { status: 'up' } },
      error: { read_model: { status: 'down', reason: 'unreachable' }, projection: { status: 'down', reason: 'unreachable' } },
      details: {
        event_store: { status: 'up' },
        read_model: { status: 'down', reason: 'unreachable' },
        data_keys: { status: 'up' },
        api_keys: { status: 'up' },
        projection: { status: 'down', reason: 'unreachable' },
      },
    }),
  );
