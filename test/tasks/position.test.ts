import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CREATED_KEY_LENGTH, createdKey, keyBetween } from '../../src/modules/tasks/tasks.position.ts';

/** Byte order, as PostgreSQL compares the column (collation "C"). */
const ordered = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;

describe('task position keys', () => {
  it('created keys sort by number', () => {
    expect(createdKey(1)).toBe('000000000001');
    expect(ordered(createdKey(9), createdKey(10))).toBe(true);
  });

  it('a key between two lies strictly between them, is longer than a created key and never ends in 0', () => {
    for (const [before, after] of [
      [createdKey(1), createdKey(2)],
      [null, createdKey(1)],
      [createdKey(7), null],
      [createdKey(1), createdKey(3)],
      [createdKey(10), createdKey(11)],
    ] as const) {
      const key = keyBetween(before, after);
      if (before) expect(ordered(before, key), `${before} < ${key}`).toBe(true);
      if (after) expect(ordered(key, after), `${key} < ${after}`).toBe(true);
      expect(key.length).toBeGreaterThan(CREATED_KEY_LENGTH);
      expect(key.endsWith('0')).toBe(false);
    }
  });

  it('a key at the end stays below the next created key', () => {
    const key = keyBetween(createdKey(5), null);
    expect(ordered(key, createdKey(6))).toBe(true);
    expect(ordered(keyBetween(key, null), createdKey(6))).toBe(true);
  });

  it('any sequence of moves keeps a strict order, with room left between any two neighbours', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 300 }), (choices) => {
        const keys = [createdKey(1), createdKey(2), createdKey(3)];
        for (const choice of choices) {
          const slot = choice % (keys.length + 1);
          const key = keyBetween(keys[slot - 1] ?? null, keys[slot] ?? null);
          keys.splice(slot, 0, key);
        }
        for (let i = 1; i < keys.length; i++) if (!ordered(keys[i - 1]!, keys[i]!)) return false;
        return (
          keys.every(
            (key) => key.length === CREATED_KEY_LENGTH || (key.length > CREATED_KEY_LENGTH && !key.endsWith('0')),
          ) && keys.every((key) => ordered(key, createdKey(4)))
        );
      }),
      { numRuns: 300 },
    );
  });

  it('refuses neighbours out of order', () => {
    expect(() => keyBetween(createdKey(2), createdKey(1))).toThrow(RangeError);
    expect(() => keyBetween(createdKey(2), createdKey(2))).toThrow(RangeError);
  });
});
