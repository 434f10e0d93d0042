import { Buffer } from 'node:buffer';
import { sql, type SQL } from 'drizzle-orm';
import { isUuid } from '../lib/uuid.ts';

/**
 * Values written into the statement text instead of sent as bind parameters.
 *
 * Every request has a fresh postgres.js connection, and postgres.js describes each parameterised
 * statement before executing it on a connection that has not seen it: one extra round trip per
 * statement, which in production is a trip from the edge to the database (measured in bench/README.md).
 * A statement without parameters runs in one. Each helper below admits only characters that cannot end
 * a string literal or start an escape, so nothing a client sends can become SQL.
 */

/** A UUID, checked to be exactly one. */
export function uuidLiteral(id: string): SQL {
  if (!isUuid(id)) throw new TypeError('uuidLiteral expects a UUID');
  return sql.raw(`'${id.toLowerCase()}'::uuid`);
}

/**
 * A non-negative integer (LIMIT, OFFSET, a version). drizzle types `limit()`/`offset()` as numbers but
 * embeds an SQL value as is; the cast stays inside this helper.
 */
export function countLiteral(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError('countLiteral expects a non-negative integer');
  return sql.raw(String(value)) as unknown as number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Client text (a name, a description), or null. The text travels as base64, decoded by PostgreSQL:
 * the literal holds only base64 characters, which is checked, so it is safe by construction rather than
 * by escaping rules that depend on server settings. PostgreSQL validates the UTF-8 it decodes.
 */
export function textLiteral(value: string | null): SQL {
  if (value === null) return NULL;
  const encoded = Buffer.from(value, 'utf8').toString('base64');
  if (!BASE64.test(encoded)) throw new TypeError('textLiteral produced a non-base64 literal');
  return sql.raw(`convert_from(decode('${encoded}', 'base64'), 'UTF8')`);
}

/** Constants in the statement text rather than as parameters (drizzle sends JS values as parameters). */
export const TRUE = sql`true`;
export const FALSE = sql`false`;
export const NULL = sql`null`;
