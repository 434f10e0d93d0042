import { createRequire } from 'node:module';
import type postgresType from 'postgres';

/**
 * postgres.js for Node-side tooling. Loaded with require() so Node's own build is used even when the
 * caller runs under Vite (the test global setup), whose resolver would otherwise pick the Workers build
 * through the `workerd` export condition and fail on `cloudflare:sockets`.
 */
export const postgres = createRequire(import.meta.url)('postgres') as typeof postgresType;
