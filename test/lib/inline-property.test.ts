import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postgresCode, classifyDatabaseError } from '../../src/db/errors.ts';
import { inlineParameters, sqlLiteral } from '../../src/db/inline.ts';
import { sql } from '../support/db.ts';

/**
 * src/db/inline.ts writes every value into the statement text, so it is the one place an injection could
 * happen. This property sends generated values to the real test database twice, as an escaped literal
 * through the seam and as a true bind parameter, and requires the same bytes back from PostgreSQL, or the
 * same refusal as a data exception (SQLSTATE class 22, which the API answers with 422).
 */

type Outcome = { ok: true; hex: string } | { ok: false; sqlstate: string | undefined };

/** The value cast to `type` by PostgreSQL, sent back as the hex of its UTF-8 text: bytes, not a JS string. */
const statement = (type: string) => `select encode(convert_to(($1::${type})::text, 'UTF8'), 'hex') as hex`;

async function outcome(run: () => Promise<{ hex: string }[]>): Promise<Outcome> {
  try {
    const [row] = await run();
    return { ok: true, hex: row!.hex };
  } catch (error) {
    return { ok: false, sqlstate: postgresCode(error) };
  }
}

const viaBindParameter = (type: string, value: unknown) =>
  outcome(() => sql().unsafe(statement(type), [value as never]) as unknown as Promise<{ hex: string }[]>);
const viaSeam = (type: string, value: unknown, literal: (value: unknown) => string) =>
  outcome(
    () => sql().unsafe(inlineParameters(statement(type), [value], literal)) as unknown as Promise<{ hex: string }[]>,
  );

async function sameAsBindParameter(
  type: string,
  value: unknown,
  literal: (value: unknown) => string,
): Promise<boolean> {
  const [bound, inlined] = [await viaBindParameter(type, value), await viaSeam(type, value, literal)];
  if (inlined.ok) return bound.ok && bound.hex === inlined.hex;
  // Refused: as PostgreSQL refuses the bound value, and as a data exception the API maps to 422.
  return (
    !bound.ok &&
    bound.sqlstate === inlined.sqlstate &&
    classifyDatabaseError({ code: inlined.sqlstate }) === 'invalid-value'
  );
}

// Characters that matter to SQL lexing and escaping, mixed with every plane of Unicode and lone surrogates.
const HOSTILE = [
  "'",
  "''",
  '\\',
  "\\'",
  '$1',
  '$2',
  '$$',
  '$tag$',
  "E'",
  "e'",
  "U&'",
  '"',
  ';',
  '--',
  '/*',
  '*/',
  '\n',
  '\r',
  '\t',
  '\0',
  '?',
  '%',
  '::',
];
const character = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x9f }).map((code) => String.fromCharCode(code)) },
);
const text = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: character, maxLength: 40 }) },
  // Very long values, up to ~200,000 characters.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: character, minLength: 1, maxLength: 4 }), fc.integer({ min: 1_000, max: 50_000 }))
      .map(([part, times]) => part.repeat(times)),
  },
);

/** Each kind of value drizzle hands the seam, with the type PostgreSQL reads it as. */
const CASES: [string, fc.Arbitrary<unknown>][] = [
  ['text', text],
  ['float8', fc.double()],
  [
    'numeric',
    fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, -0),
    ),
  ],
  ['int4', fc.oneof(fc.integer(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1.5))],
  ['int8', fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n })],
  [
    'timestamptz',
    fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
  ],
  ['bool', fc.oneof(fc.boolean(), fc.constant(null))],
  ['uuid', fc.oneof(fc.uuid(), text)],
];

describe('the SQL literal seam (src/db/inline.ts), property-based against PostgreSQL', () => {
  for (const [type, values] of CASES) {
    it(`writes every generated ${type} value exactly as a bind parameter would arrive`, async () => {
      await fc.assert(
        fc.asyncProperty(values, (value) => sameAsBindParameter(type, value, sqlLiteral)),
        { numRuns: type === 'text' ? 2_500 : 400 },
      );
    });
  }

  it('refuses NUL as PostgreSQL does, with a data exception (422), never sending it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.tuple(text, text), async ([before, after]) => {
        const value = `${before}\0${after}`;
        expect(() => sqlLiteral(value)).toThrow(expect.objectContaining({ code: '22021' }));
        return sameAsBindParameter('text', value, sqlLiteral);
      }),
      { numRuns: 200 },
    );
  });

  it('catches a broken escaper: one that forgets backslashes, and one that forgets quotes', async () => {
    const forgetsBackslashes = (value: unknown) =>
      typeof value === 'string' ? `E'${value.replace(/'/g, "''")}'` : sqlLiteral(value);
    const forgetsQuotes = (value: unknown) =>
      typeof value === 'string' ? `E'${value.replace(/\\/g, '\\\\')}'` : sqlLiteral(value);
    for (const broken of [forgetsBackslashes, forgetsQuotes]) {
      const result = await fc.check(
        fc.asyncProperty(text, (value) => sameAsBindParameter('text', value, broken)),
        { numRuns: 2_500 },
      );
      expect(result.failed).toBe(true);
    }
  });
});
