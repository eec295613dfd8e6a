import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ACCOUNT_EVENT_SCHEMAS } from '../accounts/audit/account-events.openapi';
import { ACCOUNT_RELATIONSHIP_SCHEMAS } from '../accounts/http/account-relationships.openapi';
import { ACCOUNT_SCHEMAS } from '../accounts/http/accounts.openapi';
import { AppConfig } from '../config/app-config';
import { HEALTH_SCHEMAS } from '../health/health.openapi';
import { API_KEY_SCHEME, JSONAPI_SCHEMAS } from './jsonapi-openapi';

// The OpenAPI 3.1 document, generated from the controllers' decorators (@nestjs/swagger) and the
// schemas each slice declares, served at GET /openapi.json with Swagger UI at GET /docs.

export const DOCS_PATH = 'docs';
export const OPENAPI_JSON_PATH = 'openapi.json';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

export function createOpenApiDocument(app: NestExpressApplication, config: AppConfig): OpenAPIObject {
  const base = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Identity Accounts API')
    .setDescription(
      'The Accounts JSON:API of a KYC platform: event-sourced accounts with encrypted personal data, their audit trail, and the probes and metrics operators use. docs/API.md is the same contract in prose.',
    )
    .setVersion(VERSION)
    .setLicense('UNLICENSED', 'https://docs.npmjs.com/cli/configuring-npm/package-json#license')
    .addServer(config.publicBaseUrl ?? '/', config.publicBaseUrl ? 'PUBLIC_BASE_URL' : 'This server')
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'sk_<production|staging>_<32 to 128 letters or digits>: one tenant (organization, environment) and its scopes' },
      API_KEY_SCHEME,
    )
    .addTag('accounts', 'Create, read, list, update, change the status of and redact accounts')
    .addTag('relationships', "The verification sessions and documents an account links")
    .addTag('audit', "An account's event trail")
    .addTag('operations', 'Probes and metrics: no key')
    .build();
  const document = SwaggerModule.createDocument(app, base);
  document.components = { ...document.components, schemas: { ...JSONAPI_SCHEMAS, ...ACCOUNT_SCHEMAS, ...ACCOUNT_RELATIONSHIP_SCHEMAS, ...ACCOUNT_EVENT_SCHEMAS, ...HEALTH_SCHEMAS } as never };
  return document;
}

/** GET /openapi.json and Swagger UI at GET /docs, without a key. */
export function serveOpenApi(app: NestExpressApplication, document: OpenAPIObject): void {
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: OPENAPI_JSON_PATH, raw: ['json'], customSiteTitle: 'Identity Accounts API' });
  // The document the app serves, for whoever holds the app (the test suite checks every answer against it).
  app.getHttpAdapter().getInstance().locals.openApiDocument = document;
}
