import { describe, expect, it } from 'vitest';
import * as zod from 'zod';
import * as bundled from '../../src/lib/zod-bundle/zod.ts';

// The deployed bundle replaces "zod" with src/lib/zod-bundle/zod.ts (wrangler.toml [alias]). It must be
// zod's API exactly, minus the locale modules.
describe('the bundle’s zod', () => {
  it('exports every name zod exports, the same values but for the locales', () => {
    // Tests import real zod (the alias is the bundle's alone), so the comparison means something.
    expect(typeof zod.locales.en).toBe('function');
    expect(Object.keys(bundled).sort()).toEqual(Object.keys(zod).sort());
    for (const name of Object.keys(zod) as (keyof typeof zod)[]) {
      if (name === 'locales' || name === 'core' || name === 'z' || name === 'default') continue;
      expect(bundled[name], name).toBe(zod[name]);
    }
    expect(bundled.locales).toBeUndefined();
    expect(Object.keys(bundled.core).sort()).toEqual(Object.keys(zod.core).sort());
    expect(bundled.core.locales).toBeUndefined();
    expect(bundled.core.$ZodType).toBe(zod.core.$ZodType);
    expect(bundled.z).toBe(bundled);
    expect(bundled.default).toBe(bundled);
  });

  it('builds the same schemas, with zod’s English messages', () => {
    const schema = bundled.z.object({ name: bundled.z.string().min(1), n: bundled.z.number().int() });
    const result = schema.safeParse({ name: '', n: 1.5 });
    const expected = zod.z
      .object({ name: zod.z.string().min(1), n: zod.z.number().int() })
      .safeParse({ name: '', n: 1.5 });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual(expected.error?.issues);
    expect(result.error?.issues[0]?.message).toMatch(/^Too small/);
  });
});
