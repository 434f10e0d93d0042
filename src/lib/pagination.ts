import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';

/** `limit` 1-100 (default 20) and `offset` >= 0; anything else is a 422, never a silent clamp. */
export const PaginationQuery = z.object({
  limit: z.coerce
    .number('must be a whole number')
    .int('must be a whole number')
    .min(1, 'must be between 1 and 100')
    .max(100, 'must be between 1 and 100')
    .default(20)
    .openapi({ type: 'integer', example: 20 }),
  offset: z.coerce
    .number('must be a whole number')
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(1_000_000_000, 'must be at most 1000000000')
    .default(0)
    .openapi({ type: 'integer', example: 0 }),
});

/** `"true"` / `"false"` in a query string, nothing else. */
export const booleanQuery = z
  .enum(['true', 'false'], 'must be true or false')
  .transform((value) => value === 'true')
  .openapi({ type: 'boolean' });

export interface Page<T> {
  items: T[];
  total: number;
}

/** X-Total-Count and an RFC 8288 Link header (next, prev) that keep every other query parameter. */
export function setPaginationHeaders(c: Context, total: number, limit: number, offset: number): void {
  c.header('X-Total-Count', String(total));
  const link = (relation: string, newOffset: number) => {
    const url = new URL(c.req.url);
    url.searchParams.set('limit', String(limit));
    url.searchParams.set('offset', String(newOffset));
    return `<${url.pathname}${url.search}>; rel="${relation}"`;
  };
  const links: string[] = [];
  if (offset + limit < total) links.push(link('next', offset + limit));
  if (offset > 0) links.push(link('prev', Math.max(0, Math.min(offset - limit, total - limit))));
  if (links.length > 0) c.header('Link', links.join(', '));
}

/**
 * A page whose statement carried `count(*) over ()`: `windowTotal` is that count, read from the first row.
 * Only a page past the end has no row to read it from; then, and only then, `countAll` runs.
 */
export async function toPage<T>(
  items: T[],
  windowTotal: number | undefined,
  offset: number,
  countAll: () => Promise<number>,
): Promise<Page<T>> {
  return { items, total: windowTotal ?? (offset === 0 ? 0 : await countAll()) };
}
