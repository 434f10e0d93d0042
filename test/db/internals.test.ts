import { describe, expect, it } from 'vitest';
import drizzlePackage from '../../node_modules/drizzle-orm/package.json';
import postgresPackage from '../../node_modules/postgres/package.json';
import { VERIFIED } from '../../src/db/internals.ts';

describe('the library internals src/db/internals.ts relies on', () => {
  it('were verified against the versions installed (re-check them, then VERIFIED, on an upgrade)', () => {
    expect({ postgres: postgresPackage.version, 'drizzle-orm': drizzlePackage.version }).toEqual(VERIFIED);
  });
});
