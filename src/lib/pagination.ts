import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { AppContext } from '../context.ts';
import { validationFailed } from './problem.ts';

/**
 * The list contract, the same for every list. A page costs the same however many rows stand behind it:
 * - `limit` 1-100 (default 20).
 * - `cursor`: where the page starts, taken from the previous page's `Link: rel="next"`. The statement
 *   seeks straight to it through an index (keyset pagination).
 * - `offset` (>= 0) still works, for jumping, but skipped rows are still read; `cursor` and a non-zero
 *   `offset` together are a 422.
 * - `X-Total-Count` is exact up to COUNT_CAP matching rows; beyond that it is left out and
 *   `X-Total-Count-Exceeds: 1000` says so, because an exact count would visit every row.
 * - `Link`: `next` (carrying the cursor) while more rows follow; `prev` for offset pages past the first.
 */
export const COUNT_CAP = 1000;

/**
 * A whole number in a query string, written in decimal digits only: z.coerce would also take `0x10`, `1e2`
 * or ` 5`, which the document's `integer` does not.
 */
const wholeNumberQuery = (bounds: { min: number; max: number; fallback: number; tooSmall: string; tooLarge: string }) =>
  z
    .string()
    .regex(/^\d{1,10}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(bounds.min, bounds.tooSmall).max(bounds.max, bounds.tooLarge))
    .optional()
    .transform((value) => value ?? bounds.fallback);

export const PaginationQuery = z.object({
  limit: wholeNumberQuery({
    min: 1,
    max: 100,
    fallback: 20,
    tooSmall: 'must be between 1 and 100',
    tooLarge: 'must be between 1 and 100',
  }).openapi({
    type: 'integer',
    minimum: 1,
    maximum: 100,
    default: 20,
    example: 20,
  }),
  offset: wholeNumberQuery({
    min: 0,
    max: 1_000_000_000,
    fallback: 0,
    tooSmall: 'must not be negative',
    tooLarge: 'must be at most 1000000000',
  }).openapi({
    type: 'integer',
    minimum: 0,
    maximum: 1_000_000_000,
    default: 0,
    example: 0,
    description: 'Rows to skip; prefer `cursor`, whose pages cost the same however deep',
  }),
  cursor: z
    .string()
    .max(1024, 'is not a cursor this API issued')
    .regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor this API issued')
    .optional()
    .openapi({ description: 'Opaque: the `cursor` of the previous page\'s `Link: rel="next"`' }),
});

/** `"true"` / `"false"` in a query string, nothing else. */
export const booleanQuery = z
  .enum(['true', 'false'], 'must be true or false')
  .transform((value) => value === 'true')
  .openapi({ type: 'boolean' });

/** A row's position in its sort order: the sort column as text (exact, microseconds included) and its unique tie-breaker. */
export type SortKey = readonly [value: string, id: string];

/** Where a page starts: after the cursor's row, or after `offset` rows; and the order its cursors are bound to. */
export interface PageRequest {
  limit: number;
  offset: number;
  after: SortKey | undefined;
  order: ListOrder;
}

export interface Page<T> {
  items: T[];
  /** Undefined when more than COUNT_CAP rows match. */
  total: number | undefined;
  nextCursor: string | undefined;
}

const CursorSchema = z.object({
  s: z.string(),
  k: z.tuple([z.string().max(500), z.string().max(40)]),
  m: z.string().max(64),
});

const utf8 = new TextEncoder();
const base64url = (bytes: Uint8Array) => {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
/** The text a base64url string holds, as UTF-8 (a cursor holds the last row's sort key, in any script). */
const fromBase64url = (text: string) =>
  new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(
    Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (char) => char.charCodeAt(0)),
  );

/** A cursor's MAC over its order (list, sort and query, see `readPageRequest`) and position: 128 bits of HMAC-SHA256. */
const cursorMac = (order: ListOrder, key: SortKey) =>
  base64url(hmac(sha256, order.signedWith!, utf8.encode(JSON.stringify([order.name, key]))).subarray(0, 16));

export function encodeCursor(order: ListOrder, key: SortKey): string {
  return base64url(utf8.encode(JSON.stringify({ s: order.name, k: key, m: cursorMac(order, key) })));
}

/** What each kind of sort column looks like as PostgreSQL writes it as text (db/pagination.ts `sortKeyText`): all a cursor may hold. */
const KEY_TEXT = {
  timestamp: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d){0,2}$/,
  date: /^(\d{4}-\d\d-\d\d|infinity)$/,
  integer: /^-?\d{1,19}$/,
  text: /^[\s\S]*$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

/**
 * A list's order: named by list and sort (cursors carry the name, so no cursor is read in another list or
 * order), with the kinds of its sort column and of its unique tie-breaker (default a UUID id).
 */
export interface ListOrder {
  name: string;
  key: keyof typeof KEY_TEXT;
  tie?: 'uuid' | 'integer';
  /** Set by `readPageRequest`: the key cursors are signed with (config.cursorKey). */
  signedWith?: Uint8Array;
}

function decodeCursor(cursor: string, order: ListOrder): SortKey {
  let decoded: unknown;
  try {
    decoded = JSON.parse(fromBase64url(cursor));
  } catch {
    decoded = undefined;
  }
  const parsed = CursorSchema.safeParse(decoded);
  if (
    !parsed.success ||
    parsed.data.s !== order.name ||
    !KEY_TEXT[order.key].test(parsed.data.k[0]) ||
    !KEY_TEXT[order.tie ?? 'uuid'].test(parsed.data.k[1]) ||
    parsed.data.m !== cursorMac(order, parsed.data.k)
  ) {
    throw validationFailed([
      { path: 'query.cursor', message: 'is not a cursor this API issued for this list, sort and filters' },
    ]);
  }
  return parsed.data.k;
}

/** The query parameters that choose a page rather than the rows: every other one binds the cursor. */
const PAGE_PARAMETERS = new Set(['cursor', 'offset', 'limit']);

/**
 * Every list's cursors are signed (a cursor changed by hand is refused rather than read as another
 * position) and bound to the query they were issued for: the list and sort (`order.name`), the path (the
 * project, the task) and every filter, so a cursor taken to another query is a 422 rather than a page of
 * that query starting at a position of another.
 */
function bindOrder(c: AppContext, order: ListOrder): ListOrder {
  const url = new URL(c.req.url);
  const filters = [...url.searchParams]
    .filter(([name]) => !PAGE_PARAMETERS.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = bytesToHex(sha256(utf8.encode(JSON.stringify([url.pathname, filters])))).slice(0, 32);
  return { ...order, name: `${order.name}|${digest}`, signedWith: c.get('config').cursorKey };
}

/** The page a list request asks for, its cursor checked against the request's own query (`bindOrder`). */
export function readPageRequest(
  c: AppContext,
  query: { limit: number; offset: number; cursor?: string },
  listOrder: ListOrder,
): PageRequest {
  if (query.cursor !== undefined && query.offset > 0) {
    throw validationFailed([{ path: 'query.offset', message: 'use either cursor or offset, not both' }]);
  }
  const order = bindOrder(c, listOrder);
  return {
    limit: query.limit,
    offset: query.offset,
    after: query.cursor === undefined ? undefined : decodeCursor(query.cursor, order),
    order,
  };
}

/**
 * A page from rows fetched with `limit + 1` (the extra row only says that more follow) and a count capped
 * at COUNT_CAP + 1 (db/pagination.ts).
 */
export function toPage<Row, Item>(
  rows: Row[],
  request: PageRequest,
  options: { count: number; item: (row: Row) => Item; key: (row: Row) => SortKey },
): Page<Item> {
  const shown = rows.slice(0, request.limit);
  const last = shown.at(-1);
  return {
    items: shown.map(options.item),
    total: options.count > COUNT_CAP ? undefined : options.count,
    nextCursor:
      rows.length > request.limit && last !== undefined ? encodeCursor(request.order, options.key(last)) : undefined,
  };
}

/** X-Total-Count (or X-Total-Count-Exceeds) and an RFC 8288 Link header that keep every other query parameter. */
export function setPaginationHeaders(c: Context, page: Page<unknown>, request: PageRequest): void {
  if (page.total === undefined) c.header('X-Total-Count-Exceeds', String(COUNT_CAP));
  else c.header('X-Total-Count', String(page.total));
  const link = (relation: string, position: Record<string, string>) => {
    const url = new URL(c.req.url);
    for (const name of ['cursor', 'offset']) url.searchParams.delete(name);
    url.searchParams.set('limit', String(request.limit));
    for (const [name, value] of Object.entries(position)) url.searchParams.set(name, value);
    return `<${url.pathname}${url.search}>; rel="${relation}"`;
  };
  const links: string[] = [];
  if (page.nextCursor) links.push(link('next', { cursor: page.nextCursor }));
  if (request.after === undefined && request.offset > 0)
    links.push(link('prev', { offset: String(Math.max(0, request.offset - request.limit)) }));
  if (links.length > 0) c.header('Link', links.join(', '));
}
