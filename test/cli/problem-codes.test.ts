import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBLEM_CODES } from '../../src/lib/problem-codes.ts';

describe("the README's table of error codes", () => {
  it('lists exactly the codes of src/lib/problem-codes.ts, each with its status', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((row) => [row[1], Number(row[2])]);
    expect(rows).toEqual(Object.entries(PROBLEM_CODES).map(([code, [status]]) => [code, status]));
  });
});
