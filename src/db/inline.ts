/**
 * Bind parameters written into the statement text, at the one place every statement passes (db/client.ts).
 *
 * Every request has a fresh postgres.js connection, and postgres.js describes each parameterised
 * statement before executing it on a connection that has not seen it: one extra round trip per
 * statement, which in production is a trip from the edge to the database (bench/README.md). A statement
 * without parameters runs in one. Values become untyped literals, which PostgreSQL types from their
 * context exactly as it types an unspecified parameter, so queries are written with ordinary drizzle
 * values and placeholders.
 */

/**
 * A parameter, or a quoted literal or identifier of drizzle's text, which the scan steps over whole (the
 * SQL standard's quoting, the only one drizzle writes: a doubled quote stays inside).
 */
const TOKEN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\d+)/g;
const PARAMETER_INSIDE = /\$\d/;

/**
 * `query` (drizzle's text, whose only `$n` are its parameters) with every `$n` replaced by its value.
 * That invariant is checked as the text is scanned: a `$n` inside a quoted literal or identifier of the
 * text itself (not of a value, which is never rescanned) is refused rather than left ambiguous.
 * `literal` is replaceable only so the property test (test/lib/inline-property.test.ts) can prove it
 * catches a broken escaper.
 */
export function inlineParameters(
  query: string,
  params: readonly unknown[] | undefined,
  literal: (value: unknown) => string = sqlLiteral,
): string {
  if (!params?.length) return query;
  return query.replace(TOKEN, (token, position: string | undefined) => {
    if (position === undefined) {
      if (PARAMETER_INSIDE.test(token)) throw new TypeError(`a parameter marker inside a quoted part: ${token}`);
      return token;
    }
    const index = Number(position) - 1;
    if (index >= params.length) throw new TypeError(`no value for parameter $${position}`);
    return literal(params[index]);
  });
}

/**
 * One value as an SQL literal. Strings are escaped as libpq's PQescapeLiteral does, in the `E'...'` form
 * whose rules do not depend on server settings: every backslash and quote doubled, so the literal ends at
 * its own closing quote and nothing inside it is an escape.
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // As postgres.js writes a bound number: NaN and ±Infinity as the words float and numeric accept (and
  // integer columns refuse as a data exception), -0 as 0.
  if (typeof value === 'number') return `'${value}'`;
  if (typeof value === 'bigint') return `'${value}'`;
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (typeof value !== 'string') throw new TypeError(`cannot write a ${typeof value} into a statement`);
  // PostgreSQL text cannot hold NUL, and NUL would end the statement text early: refused as PostgreSQL
  // refuses it in a parameter (SQLSTATE 22021, a data exception, so a 422 like other invalid values).
  if (value.includes('\0')) throw Object.assign(new Error('text must not contain NUL characters'), { code: '22021' });
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
