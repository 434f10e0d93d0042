import { createRequire } from 'node:module';
import type postgresType from 'postgres';

/**
 * postgres.js for Node-side tooling. Loaded with require() so Node's own build is used even when the
 * caller runs under Vite (the test global setup), whose resolver would otherwise pick the Workers build
 * through the `workerd` export condition and fail on `cloudflare:sockets`.
 */
export const postgres = createRequire(import.meta.url)('postgres') as typeof postgresType;

/**
 * Start-up settings for maintenance connections (migrations, bulk seeding) that may outlast the API's
 * per-statement limits (drizzle/0002_database_timeouts.sql). Not 0 ("no limit"): postgres.js leaves
 * falsy values out of the start-up message. 2^31-1 ms (~24 days) is the largest value PostgreSQL takes.
 */
export const WITHOUT_STATEMENT_LIMITS = { statement_timeout: 2_147_483_647, lock_timeout: 2_147_483_647 };
