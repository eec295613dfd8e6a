// Checks HTTP exchanges against an OpenAPI 3.1 document: the answer's status is one its operation
// declares, with the headers it marks required, in a declared media type, with a body that
// validates against the schema (JSON Schema 2020-12, ajv); a request the service accepted (2xx)
// validates against the operation's request body. An answer of no operation (an unknown path, a
// method a path does not have) must still be a JSON:API error document when it is JSON:API.
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { isEmail } from 'class-validator';

export interface Exchange {
  method: string;
  /** As sent, with its query string. */
  url: string;
  status: number;
  headers: Record<string, unknown>;
  /** The answer's body as sent (undefined: none). */
  body: string | undefined;
  requestContentType?: string;
  /** The request body as the service parsed it, when it read one. */
  requestBody?: unknown;
}

interface Operation {
  template: string;
  pattern: RegExp;
  method: string;
  spec: {
    responses?: Record<string, { headers?: Record<string, { required?: boolean }>; content?: Record<string, { schema?: unknown }> }>;
    requestBody?: { content?: Record<string, { schema?: unknown }> };
  };
}

type Document = { paths?: Record<string, Record<string, unknown>>; components?: { schemas?: Record<string, unknown> } };

const COMPONENTS = 'openapi:components';
const JSONAPI = 'application/vnd.api+json';
const mediaType = (value: unknown) => String(value ?? '').split(';')[0].trim().toLowerCase();
const isJson = (type: string) => type === 'application/json' || type.endsWith('+json');

export function openApiChecker(document: Document): (exchange: Exchange) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // ajv-formats has no idn-email (RFC 6531): the addresses validator.js accepts, as the service reads them.
  ajv.addFormat('idn-email', (value: string) => isEmail(value));
  // Schemas refer to each other as #/components/schemas/X: made refs into one schema of $defs.
  const rewrite = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${COMPONENTS}#/$defs/`));
  ajv.addSchema({ $id: COMPONENTS, $defs: rewrite(document.components?.schemas ?? {}) });
  const compiled = new Map<unknown, ValidateFunction>();
  const validator = (schema: unknown) => {
    if (!compiled.has(schema)) compiled.set(schema, ajv.compile(rewrite(schema) as object));
    return compiled.get(schema)!;
  };
  const errorDocument = validator({ type: 'object', required: ['errors'], additionalProperties: false, properties: { errors: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/ErrorObject' } } } });

  const operations: Operation[] = Object.entries(document.paths ?? {}).flatMap(([template, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'put', 'post', 'patch', 'delete'].includes(method))
      .map(([method, spec]) => ({
        template,
        method: method.toUpperCase(),
        // As Express routes (neither strict nor case-sensitive): /accounts/ and /Accounts are the list too.
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/?$`, 'i'),
        spec: spec as Operation['spec'],
      })),
  );

  const schemaProblems = (validate: ValidateFunction, value: unknown, what: string) =>
    validate(value) ? [] : [`${what} does not match its schema: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`];

  return (exchange) => {
    const path = exchange.url.split('?')[0];
    const method = exchange.method === 'HEAD' ? 'GET' : exchange.method;
    const operation = operations.find((candidate) => candidate.method === method && candidate.pattern.test(path));
    const contentType = mediaType(exchange.headers['content-type']);
    const hasBody = exchange.body !== undefined && exchange.body !== '' && exchange.method !== 'HEAD';
    const parsed = () => {
      try {
        return { value: JSON.parse(exchange.body!) as unknown };
      } catch {
        return null;
      }
    };
    if (!operation) {
      if (!hasBody || contentType !== JSONAPI) return [];
      const body = parsed();
      return body ? schemaProblems(errorDocument, body.value, `${exchange.method} ${path} ${exchange.status} (no operation)`) : [`${exchange.method} ${path}: the body is not JSON`];
    }
    const name = `${exchange.method} ${operation.template} ${exchange.status}`;
    const response = operation.spec.responses?.[String(exchange.status)] ?? operation.spec.responses?.default;
    if (!response) return [`${name}: the document declares no ${exchange.status} answer for this operation`];
    const problems: string[] = [];
    for (const [header, spec] of Object.entries(response.headers ?? {})) {
      if (spec.required && exchange.headers[header.toLowerCase()] === undefined) problems.push(`${name}: header ${header} is required but was not sent`);
    }
    if (hasBody) {
      const content = response.content ?? {};
      if (!(contentType in content)) problems.push(`${name}: answered ${contentType || 'no Content-Type'}, the document declares ${Object.keys(content).join(', ') || 'no body'}`);
      else if (isJson(contentType)) {
        const body = parsed();
        if (!body) problems.push(`${name}: the body is not JSON`);
        else if (content[contentType].schema !== undefined) problems.push(...schemaProblems(validator(content[contentType].schema), body.value, name));
      }
    }
    const accepted = exchange.status >= 200 && exchange.status < 300;
    if (accepted && exchange.requestBody !== undefined && operation.spec.requestBody) {
      const type = mediaType(exchange.requestContentType);
      const content = operation.spec.requestBody.content ?? {};
      if (!(type in content)) problems.push(`${name}: accepted a request body of ${type}, the document declares ${Object.keys(content).join(', ')}`);
      else if (content[type].schema !== undefined) problems.push(...schemaProblems(validator(content[type].schema), exchange.requestBody, `${name}: the accepted request body`));
    }
    return problems;
  };
}
