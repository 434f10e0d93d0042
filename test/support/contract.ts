import { Validator, type Schema } from '@cfworker/json-schema';
import document from '../../openapi.json';

/*
 * Every request the suite makes, and every answer, held against the committed contract (openapi.json): the
 * status must be declared for the operation, the body must match the declared media type and schema, the
 * API's headers must be declared, and a request the document calls invalid must not succeed. A route whose
 * behaviour and document drift apart fails the test that exercises it.
 */

type SchemaObject = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema: SchemaObject;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: SchemaObject }> };
  responses: Record<
    string,
    { headers?: Record<string, SchemaObject>; content?: Record<string, { schema: SchemaObject }> }
  >;
}

/** Paths outside the contract: the document itself and the Swagger UI page and files. */
const OUTSIDE_THE_CONTRACT = /^\/(openapi\.json$|docs(\/|$)|docs-assets\/)/;
/** Response headers the API sets itself, each of which the contract must declare where it is sent. */
const API_HEADERS = [
  'x-request-id',
  'www-authenticate',
  'retry-after',
  'etag',
  'link',
  'x-total-count',
  'x-total-count-exceeds',
  'location',
  'allow',
];

const operations = Object.entries(document.paths as Record<string, Record<string, Operation>>)
  .flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      params: (template.match(/\{/g) ?? []).length,
      operation,
    })),
  )
  // A literal segment wins over a parameter (`/tasks/x` before `/tasks/{id}`).
  .sort((a, b) => a.params - b.params);

/**
 * `schema` with its references resolved. For requests, `format` is left out: JSON Schema 2020-12 makes it an
 * annotation, and the server is lenient where the document only annotates (an email is trimmed and
 * lower-cased before it is checked). Responses are held to their formats.
 */
function resolve(schema: unknown, formats: boolean, depth = 0): unknown {
  if (depth > 40 || schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map((item) => resolve(item, formats, depth + 1));
  const ref = (schema as { $ref?: string }).$ref;
  if (ref) {
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], document);
    return resolve(target, formats, depth + 1);
  }
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key, value]) => formats || key !== 'format' || typeof value !== 'string')
      .map(([key, value]) => [key, key === 'example' ? value : resolve(value, formats, depth + 1)]),
  );
}

const validators = { request: new WeakMap<object, Validator>(), response: new WeakMap<object, Validator>() };
function validate(schema: SchemaObject, value: unknown, side: 'request' | 'response' = 'request'): string[] {
  let validator = validators[side].get(schema);
  if (!validator)
    validators[side].set(
      schema,
      (validator = new Validator(resolve(schema, side === 'response') as Schema, '2020-12', false)),
    );
  const result = validator.validate(value);
  return result.valid ? [] : result.errors.map((error) => `${error.instanceLocation}: ${error.error}`);
}

/** A query or path value as the document's schema reads it (numbers and booleans arrive as text). */
function typed(value: string, schema: SchemaObject): unknown {
  const resolved = resolve(schema, false) as SchemaObject;
  const type = resolved.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/** Why the request breaks the contract (empty: it keeps it). */
function requestViolations(operation: Operation, url: URL, headers: Headers, body: string | undefined): string[] {
  const problems: string[] = [];
  for (const parameter of (operation.parameters ?? []).filter((p) => p.in === 'query')) {
    const values = url.searchParams.getAll(parameter.name);
    if (values.length === 0 && parameter.required) problems.push(`query ${parameter.name} is required`);
    for (const value of values)
      problems.push(
        ...validate(parameter.schema, typed(value, parameter.schema)).map(
          (error) => `query ${parameter.name} ${error}`,
        ),
      );
  }
  const declared = operation.requestBody;
  const contentType = headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  if (declared && body === undefined && declared.required) problems.push('the body is required');
  // An operation that declares no body ignores one; it is not the document's to refuse.
  if (body !== undefined && declared && contentType === 'application/json') {
    const media = declared.content['application/json'];
    if (!media) problems.push('no JSON body is declared');
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return [...problems, 'the body is not JSON'];
      }
      problems.push(...validate(media.schema, parsed).map((error) => `body ${error}`));
    }
  } else if (body !== undefined && declared && contentType && !declared.content[contentType]) {
    problems.push(`${contentType} is not a declared body type`);
  }
  return problems;
}

export interface Exchange {
  method: string;
  url: string;
  requestHeaders: Headers;
  requestBody: string | undefined;
  status: number;
  responseHeaders: Headers;
  responseText: string;
}

/** Throws when the exchange and the contract disagree. */
export function assertKeepsContract(exchange: Exchange): void {
  const url = new URL(exchange.url);
  if (OUTSIDE_THE_CONTRACT.test(url.pathname) || exchange.method === 'OPTIONS') return;
  const fail = (message: string) => {
    throw new Error(
      `contract: ${exchange.method} ${url.pathname}${url.search} -> ${exchange.status}: ${message}\n${exchange.responseText.slice(0, 500)}`,
    );
  };
  const found = operations.find(
    (candidate) => candidate.method === exchange.method && candidate.pattern.test(url.pathname),
  );
  if (!found) {
    if (exchange.status !== 404 && exchange.status !== 405)
      fail('no operation in openapi.json answers this, yet it did not answer 404 or 405');
    return;
  }
  const { operation } = found;
  const declared = operation.responses[String(exchange.status)] ?? operation.responses.default;
  if (!declared) return fail(`status ${exchange.status} is not declared for ${operation.operationId}`);
  const violations = requestViolations(operation, url, exchange.requestHeaders, exchange.requestBody);
  if (violations.length > 0 && exchange.status < 400)
    fail(`the document calls the request invalid (${violations.join('; ')}), yet it succeeded`);

  const declaredHeaders = new Set(Object.keys(declared.headers ?? {}).map((name) => name.toLowerCase()));
  for (const name of API_HEADERS) {
    if (exchange.responseHeaders.has(name) && !declaredHeaders.has(name))
      fail(`header ${name} is sent but not declared for ${exchange.status}`);
  }
  if (exchange.status === 204 || exchange.status === 304) return;
  const contentType = exchange.responseHeaders.get('Content-Type')?.split(';')[0]?.trim();
  const media = contentType ? declared.content?.[contentType] : undefined;
  if (!media) return fail(`content type ${contentType} is not declared for ${exchange.status}`);
  if (!contentType!.endsWith('json')) return;
  const errors = validate(media.schema, JSON.parse(exchange.responseText), 'response');
  if (errors.length > 0) fail(`the body does not match its schema: ${errors.slice(0, 5).join('; ')}`);
}
