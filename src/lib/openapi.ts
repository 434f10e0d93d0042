import { z } from '@hono/zod-openapi';
import { COUNT_CAP } from './pagination.ts';
import { ProblemSchema, STATUS_TITLES, type ErrorStatus } from './problem.ts';

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Malformed request (for example a body that is not valid JSON)',
  401: 'Missing, malformed, tampered or expired bearer token',
  403: 'Authenticated but not allowed (role, ownership or inactive account)',
  404: 'Unknown or deleted resource',
  405: 'Method not allowed on this path',
  409: 'Conflicts with the current state',
  412: 'If-Match does not match the current version',
  413: 'Request body larger than 1 MiB',
  415: 'Unsupported Content-Type',
  422: 'Request failed validation; see `errors`',
  429: 'Rate limited; see Retry-After',
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
  ) as Record<S | (typeof ALWAYS)[number], { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }>;
}

export function jsonBody<T extends z.ZodType>(schema: T, description: string) {
  return { required: true, description, content: { 'application/json': { schema } } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** Either a pasted bearer token or Swagger's OAuth2 password login authorises a request. */
export const bearerSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { oauth2Password: [] }];

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
        .openapi({ description: `Sent instead of X-Total-Count when more than ${COUNT_CAP} items match`, example: String(COUNT_CAP) }),
      Link: z.string().optional().openapi({
        description: 'RFC 8288 links: `next` (with the `cursor` of the following page) while more items follow, `prev` for offset pages',
        example: '</projects?limit=20&cursor=eyJzIjoiLWNyZWF0ZWRfYXQi>; rel="next"',
      }),
    }),
    content: { 'application/json': { schema: z.array(itemSchema) } },
  } as const;
}
