import { z } from '@hono/zod-openapi';
import { COUNT_CAP } from './pagination.ts';
import { ProblemSchema, STATUS_TITLES, type ErrorStatus } from './problem.ts';

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Malformed request (for example a body that is not valid JSON)',
  401: 'Missing, malformed, tampered or expired bearer token',
  403: 'Authenticated but not allowed (role, ownership, inactive account, or an API key without the scope)',
  404: 'Unknown or deleted resource',
  405: 'Method not allowed on this path',
  409: 'Conflicts with the current state',
  412: 'If-Match does not match the current version',
  413: 'Request body larger than 1 MiB',
  415: 'Unsupported Content-Type',
  422: 'Request failed validation; see `errors`',
  429: "Rate limited (the credential's quota, or a per-address limit); see Retry-After",
  500: 'Unexpected server error',
  503: 'Database unavailable; see Retry-After',
};

/** Every route answers these whatever it does: bad requests, oversized bodies, a database outage, a bug. */
const ALWAYS: ErrorStatus[] = [400, 413, 415, 422, 500, 503];

/** Declares problem+json responses for the given statuses plus the ones every route can return. */
export function errorResponses<const S extends ErrorStatus>(...statuses: S[]) {
  const all = [...new Set([...ALWAYS, ...statuses])].sort();
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: `${STATUS_TITLES[status]}: ${ERROR_DESCRIPTIONS[status]}`,
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  ) as Record<
    S | (typeof ALWAYS)[number],
    { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }
  >;
}

export function jsonBody<T extends z.ZodType>(schema: T, description: string) {
  return { required: true, description, content: { 'application/json': { schema } } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** A session: a pasted access token or Swagger's OAuth2 password login (the session and key routes). */
export const sessionSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { oauth2Password: [] }];

/** A session, or an API key (`afk_...`) with the scope the route names in `x-required-scope`. */
export const keySecurity: Record<string, string[]>[] = [...sessionSecurity, { apiKey: [] }];

/** Says outright that an operation needs no credentials (an absent `security` would inherit a default). */
export const publicSecurity: Record<string, string[]>[] = [];

/** A JSON array response with the pagination headers every list returns. */
export function listResponse<T extends z.ZodType>(itemSchema: T, description: string) {
  return {
    description,
    headers: z.object({
      'X-Total-Count': z
        .string()
        .optional()
        .openapi({ description: `Exact number of matching items, when at most ${COUNT_CAP}`, example: '42' }),
      'X-Total-Count-Exceeds': z
        .string()
        .optional()
        .openapi({
          description: `Sent instead of X-Total-Count when more than ${COUNT_CAP} items match`,
          example: String(COUNT_CAP),
        }),
      Link: z.string().optional().openapi({
        description:
          'RFC 8288 links: `next` (with the `cursor` of the following page) while more items follow, `prev` for offset pages',
        example: '</projects?limit=20&cursor=eyJzIjoiLWNyZWF0ZWRfYXQi>; rel="next"',
      }),
    }),
    content: { 'application/json': { schema: z.array(itemSchema) } },
  } as const;
}

/** Headers the API sends on every response, or on every response of a status, whatever the route. */
const COMMON_HEADERS = {
  RequestId: {
    description: "The server's id of this request, as in the problem's `request_id`, the logs and the audit trail",
    schema: { type: 'string', format: 'uuid' },
  },
  WWWAuthenticate: {
    description: 'RFC 6750 challenge: `Bearer realm="aegisflow"`, with `error="invalid_token"` when a token was sent',
    schema: { type: 'string' },
  },
  RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
  CurrentETag: {
    description: 'The current version of the resource, to retry with in If-Match',
    schema: { type: 'string' },
  },
  RateLimitPolicy: {
    description:
      'The quota of the credential (draft-ietf-httpapi-ratelimit-headers): `"credential";q=<requests>;w=<seconds>`, counted per Cloudflare location',
    schema: { type: 'string' },
  },
  RateLimit: {
    description:
      'What remains of the quota: `"credential";r=<requests left>;t=<seconds until the window resets>`, as this server has counted (approximate: the edge\'s count may be higher)',
    schema: { type: 'string' },
  },
} as const;
const HEADERS_BY_STATUS: Record<string, [name: string, component: keyof typeof COMMON_HEADERS][]> = {
  '401': [['WWW-Authenticate', 'WWWAuthenticate']],
  '412': [['ETag', 'CurrentETag']],
  '429': [['Retry-After', 'RetryAfter']],
  '503': [['Retry-After', 'RetryAfter']],
};

type Document = { paths?: object; components?: { headers?: Record<string, unknown> } };
type Operation = {
  security?: unknown[];
  requestBody?: { required?: boolean; content?: Record<string, unknown> };
  responses?: Record<string, { description?: string; headers?: Record<string, unknown>; content?: unknown }>;
};

/** What every route behind a credential may answer whatever it does: a scope or credential refused, a quota spent. */
const AUTHENTICATED_STATUSES = [403, 429] as const;

/**
 * What the routes' declarations cannot say one by one, added to the generated document as rules: the
 * headers every response carries (X-Request-Id) or every response of a status carries (WWW-Authenticate on
 * 401, ETag on 412, Retry-After on 429 and 503); on every route behind a credential, the refusals any such
 * route may answer (403 for a key's scope, 429 for the credential's quota) and the RateLimit fields on every
 * response (middleware/quota.ts); and bodies offered in several media types being required. A body offered in several media types (login: JSON or the OAuth2 form) is declared optional in
 * its route only because @hono/zod-openapi would otherwise run every type's validator on every request;
 * the handler refuses a request with neither.
 */
export function completeDocument<T extends Document>(document: T): T {
  const components = (document.components ??= {});
  components.headers = { ...components.headers, ...COMMON_HEADERS };
  const ref = (component: keyof typeof COMMON_HEADERS) => ({ $ref: `#/components/headers/${component}` });
  for (const operations of Object.values(document.paths ?? {}) as Record<string, Operation>[]) {
    for (const operation of Object.values(operations)) {
      const authenticated = (operation.security?.length ?? 0) > 0;
      const responses = (operation.responses ??= {});
      const problem = responses['401']?.content;
      for (const status of authenticated ? AUTHENTICATED_STATUSES : []) {
        responses[status] ??= {
          description: `${STATUS_TITLES[status]}: ${ERROR_DESCRIPTIONS[status]}`,
          content: problem,
        };
      }
      const body = operation.requestBody;
      if (body && body.required === false && Object.keys(body.content ?? {}).length > 1) body.required = true;
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        response.headers = { 'X-Request-Id': ref('RequestId'), ...response.headers };
        for (const [name, component] of HEADERS_BY_STATUS[status] ?? []) response.headers[name] = ref(component);
        if (authenticated) {
          response.headers['RateLimit-Policy'] = ref('RateLimitPolicy');
          response.headers.RateLimit = ref('RateLimit');
        }
      }
    }
  }
  return document;
}
