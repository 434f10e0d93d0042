import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { PgSelect } from 'drizzle-orm/pg-core';
import { COUNT_CAP, type PageRequest } from '../lib/pagination.ts';
import { slots } from './statements.ts';

/**
 * The SQL half of the list contract (lib/pagination.ts): a count that stops at COUNT_CAP + 1 rows, and the
 * keyset condition that starts a page after the cursor's row. Both are pieces of the list's one statement.
 */

/** How many rows `query` (its selection does not matter) yields, counting no further than COUNT_CAP + 1. */
export const cappedCount = (query: PgSelect): SQL<number> =>
  sql`(select count(*) from (${query.limit(COUNT_CAP + 1)}) as capped)`.mapWith(Number);

/*
 * A page statement is prepared once per shape with placeholders `limit`, `offset`, `afterKey` and
 * `afterId`, filled in from the request by `pageValues`.
 */

/**
 * Rows after the cursor's row in the order `(column, id)` `direction`: a row comparison, which PostgreSQL
 * answers with one seek into an index on those columns.
 */
export function afterCursor(direction: 'asc' | 'desc', column: SQLWrapper, id: SQLWrapper): SQL {
  const comparison = sql.raw(direction === 'desc' ? '<' : '>');
  return sql`(${column}, ${id}) ${comparison} (${$.afterKey}, ${$.afterId})`;
}

/** The page's window: one row more than asked (it only says that more follow), after `offset` rows. */
export const pageWindow = <T extends PgSelect>(query: T) => query.limit($.limit).offset($.offset);

export type PageValues = ReturnType<typeof pageValues>;
const $ = slots<PageValues>();

export const pageValues = (page: PageRequest) => ({
  limit: page.limit + 1,
  offset: page.offset,
  afterKey: page.after?.[0],
  afterId: page.after?.[1],
});

/** A sort column as its exact text (timestamps to the microsecond), the first half of a SortKey. */
export const sortKeyText = (column: SQLWrapper): SQL<string> => sql<string>`${column}::text`;

/**
 * A page is a LATERAL subquery, and drizzle reads no nested selection out of a subquery: the subquery
 * selects a table's `columns` flat, and the outer select gathers them back into one object with this
 * (null where the page is empty).
 */
export function regroup<Columns extends Record<string, unknown>>(
  columns: Columns,
  subquery: { [Key in keyof Columns]: unknown },
): Columns {
  return Object.fromEntries(Object.keys(columns).map((key) => [key, subquery[key as keyof Columns]])) as Columns;
}
