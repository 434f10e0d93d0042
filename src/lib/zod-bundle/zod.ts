// The deployed bundle's "zod" (wrangler.toml [alias]): zod's classic API without its 64 locale modules
// (~260 KiB raw, ~60 KiB gzip). @hono/zod-openapi hands zod's whole namespace to zod-to-openapi, so a
// bundler must keep every export of it, `locales` and `core.locales` included; these namespaces have
// neither. zod registers English itself on the first schema it builds, and every message a client sees
// is our own problem text anyway. Tests run real zod; test/lib/zod-bundle.test.ts compares the two.
import * as core from './core.ts';
import * as z from './zod.ts';

export * from '../../../node_modules/zod/v4/classic/external.js';
// Explicit exports win over `export *`, so these replace zod's own `locales` and `core`.
export const locales = undefined;
export { core, z, z as default };
