import { describe, expect, it } from 'vitest';
import { inlineParameters, sqlLiteral } from '../../src/db/inline.ts';

describe('parameters written into the statement text', () => {
  it('replaces each $n with its own value, $10 and later included', () => {
    const params = Array.from({ length: 11 }, (_, i) => `v${i + 1}`);
    const query = Array.from({ length: 11 }, (_, i) => `$${i + 1}`).join(', ');
    expect(inlineParameters(`select ${query}`, params)).toBe(`select ${params.map((v) => `E'${v}'`).join(', ')}`);
    expect(inlineParameters('select 1', [])).toBe('select 1');
    expect(() => inlineParameters('select $2', ['only one'])).toThrow(TypeError);
  });

  it("steps over the text's own quoted parts, and refuses a parameter marker inside one", () => {
    expect(inlineParameters(`select 'it''s', "a""b", $1`, ['x'])).toBe(`select 'it''s', "a""b", E'x'`);
    expect(() => inlineParameters("select '$1', $1", ['x'])).toThrow(TypeError);
    expect(() => inlineParameters('select "$1", $1', ['x'])).toThrow(TypeError);
  });

  it('does not rescan what it wrote: a value that looks like a parameter stays text', () => {
    expect(inlineParameters('select $1, $2', ['$2', 'x'])).toBe("select E'$2', E'x'");
  });

  it('doubles every quote and backslash, so a value cannot end its literal or start an escape', () => {
    expect(sqlLiteral("x'); drop table users; --")).toBe("E'x''); drop table users; --'");
    expect(sqlLiteral("\\'; select 1; --")).toBe("E'\\\\''; select 1; --'");
    expect(sqlLiteral('\\x41 \\u0041 $$ \u00e9\u{1F680}')).toBe("E'\\\\x41 \\\\u0041 $$ \u00e9\u{1F680}'");
  });

  it('writes the other values drizzle passes', () => {
    expect(sqlLiteral(null)).toBe('null');
    expect(sqlLiteral(undefined)).toBe('null');
    expect(sqlLiteral(true)).toBe('true');
    expect(sqlLiteral(false)).toBe('false');
    expect(sqlLiteral(20)).toBe("'20'");
    expect(sqlLiteral(-1.5)).toBe("'-1.5'");
    expect(sqlLiteral(Number.NaN)).toBe("'NaN'");
    expect(sqlLiteral(Number.NEGATIVE_INFINITY)).toBe("'-Infinity'");
    expect(sqlLiteral(12345678901234567890n)).toBe("'12345678901234567890'");
    expect(sqlLiteral(new Date('2026-11-25T12:00:00Z'))).toBe("'2026-11-25T12:00:00.000Z'");
  });

  it('refuses what it cannot write safely', () => {
    for (const value of [{}, [1], Symbol('x'), () => 1]) {
      expect(() => sqlLiteral(value)).toThrow(TypeError);
    }
    // NUL would end the statement text; PostgreSQL refuses it in text as a data exception (22021).
    expect(() => sqlLiteral('a\0b')).toThrow(expect.objectContaining({ code: '22021' }));
  });
});
