import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { countLiteral, textLiteral, uuidLiteral } from '../../src/db/literals.ts';

const dialect = new PgDialect();

describe('SQL literals for the hot paths', () => {
  it('writes a validated UUID into the statement, with no parameter', () => {
    const query = dialect.sqlToQuery(uuidLiteral('0B7E7A5C-8F1E-4D3A-9A55-2F6C1D9E4B21'));
    expect(query).toEqual({ sql: "'0b7e7a5c-8f1e-4d3a-9a55-2f6c1d9e4b21'::uuid", params: [] });
  });

  it('refuses anything that is not exactly a UUID', () => {
    for (const value of ["'; drop table users; --", '0b7e7a5c-8f1e-4d3a-9a55-2f6c1d9e4b21\'', '', 'x'.repeat(36)]) {
      expect(() => uuidLiteral(value)).toThrow(TypeError);
    }
  });

  it('writes a validated count, refusing negatives, fractions and non-numbers', () => {
    expect(dialect.sqlToQuery(countLiteral(20) as never)).toEqual({ sql: '20', params: [] });
    for (const value of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(() => countLiteral(value)).toThrow(TypeError);
    }
  });

  it('writes client text as base64 that PostgreSQL decodes, so no quote or backslash reaches the statement', () => {
    const text = "x'); drop table users; -- \\ $$ \u00e9\u{1F680}";
    const query = dialect.sqlToQuery(textLiteral(text));
    expect(query.params).toEqual([]);
    const literal = /^convert_from\(decode\('([^']*)', 'base64'\), 'UTF8'\)$/.exec(query.sql)?.[1];
    expect(literal).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    expect(Buffer.from(literal!, 'base64').toString('utf8')).toBe(text);
    expect(dialect.sqlToQuery(textLiteral(null))).toEqual({ sql: 'null', params: [] });
    expect(dialect.sqlToQuery(textLiteral(''))).toEqual({ sql: "convert_from(decode('', 'base64'), 'UTF8')", params: [] });
  });
});
