import { sql as raw } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { FLAG, slots, statement, statementFamily, STATEMENT_FAMILIES } from '../../src/db/statements.ts';
import { layOutSql } from '../../scripts/lib/sql-layout.ts';
import { sql } from '../support/db.ts';

/*
 * db/statements.ts: a statement is built once per shape, under a key derived from the shape, by a builder
 * that sees the declared dimensions only; sql/statements.sql (`npm run sql -- --check` in CI) shows them.
 */

const db = () => drizzle(sql()) as unknown as Database;
let seen: unknown[] = [];

const SUM = statementFamily(
  'test_sum',
  { plus: FLAG, sign: ['positive', 'negative'] },
  slots<{ value: number; extra?: number }>(),
  (db, shape, $) => {
    seen.push(shape);
    const value = shape.sign === 'negative' ? raw`-${$.value}::int` : raw`${$.value}::int`;
    const extra = shape.plus ? raw`${$.extra}::int` : raw`0`;
    return db.select({ sum: raw<number>`${value} + ${extra}`.mapWith(Number) }).from(raw`(select 1) as one`);
  },
);

describe('statement families', () => {
  it('build each shape once per database, keyed by the shape, and fill in its placeholders', async () => {
    seen = [];
    const database = db();
    const base = SUM.on(database, { plus: false, sign: 'positive' });
    expect(SUM.on(database, { plus: false, sign: 'positive' })).toBe(base);
    expect(seen).toHaveLength(1);
    const plus = SUM.on(database, { plus: true, sign: 'negative' });
    expect(plus).not.toBe(base);
    expect(seen).toHaveLength(2);
    expect(await base.execute({ value: 2 })).toEqual([{ sum: 2 }]);
    expect(await plus.execute({ value: 2, extra: 5 })).toEqual([{ sum: 3 }]);
    expect(SUM.key({ plus: true, sign: 'negative' })).toBe('test_sum:true:negative');
  });

  it('show the builder the declared dimensions only, frozen, and refuse a value the family did not declare', () => {
    seen = [];
    const shape = { plus: true, sign: 'positive', includeDeleted: true } as unknown as Parameters<typeof SUM.text>[1];
    SUM.text(db(), shape);
    expect(seen[0]).toEqual({ plus: true, sign: 'positive' });
    expect(Object.isFrozen(seen[0])).toBe(true);
    const undeclared = { plus: true, sign: 'zero' } as unknown as Parameters<typeof SUM.text>[1];
    expect(() => SUM.text(db(), undeclared)).toThrow(/sign = zero is not a declared shape/);
  });

  it('list every dimension at its first value, then each other value of each, for the snapshot', () => {
    expect(SUM.representativeShapes()).toEqual([
      { plus: false, sign: 'positive' },
      { plus: true, sign: 'positive' },
      { plus: false, sign: 'negative' },
    ]);
  });

  it('take each name once, in snake case', () => {
    expect(() =>
      statement('test_sum', slots<object>(), (db) => db.select({ one: raw`1` }).from(raw`(select 1) as one`)),
    ).toThrow(/not unique/);
    expect(() =>
      statement('TestSum', slots<object>(), (db) => db.select({ one: raw`1` }).from(raw`(select 1) as one`)),
    ).toThrow(/not unique/);
    expect(STATEMENT_FAMILIES.filter((family) => family.name === 'test_sum')).toHaveLength(1);
  });
});

describe('the snapshot layout (scripts/lib/sql-layout.ts)', () => {
  it('starts each clause on its own line, indented by depth, and leaves quoted parts as they are', () => {
    const text =
      'select "from", \'a where  b\'\'s\' from "t" where "x" in (select "y" from "u" where "z" is distinct from 1)';
    expect(layOutSql(text)).toBe(
      [
        "select \"from\", 'a where  b''s'",
        'from "t"',
        'where "x" in (',
        '  select "y"',
        '  from "u"',
        '  where "z" is distinct from 1)',
      ].join('\n'),
    );
  });
});
