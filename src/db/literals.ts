import { sql, type SQL } from 'drizzle-orm';
import { isUuid } from '../lib/uuid.ts';

/**
 * A UUID written into the statement as a literal instead of a bind parameter, for the hottest lookups.
 *
 * Every request has a fresh postgres.js connection, and postgres.js describes each parameterised
 * statement before executing it on a connection that has not seen it: one extra round trip per
 * statement (measured in bench/README.md). A statement without parameters runs in one. The value is
 * checked here, so nothing but the 36 characters of a UUID can ever reach the SQL text.
 */
export function uuidLiteral(id: string): SQL {
  if (!isUuid(id)) throw new TypeError('uuidLiteral expects a UUID');
  return sql.raw(`'${id.toLowerCase()}'::uuid`);
}

/**
 * A LIMIT or OFFSET written into the statement, for the same reason as `uuidLiteral`. drizzle types
 * `limit()`/`offset()` as numbers but embeds an SQL value as is; the cast stays inside this helper.
 */
export function countLiteral(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError('countLiteral expects a non-negative integer');
  return sql.raw(String(value)) as unknown as number;
}

/** `true` in the statement text rather than as a parameter. */
export const TRUE = sql`true`;
