import { env } from 'cloudflare:workers';
import postgres from 'postgres';

/**
 * Direct database access for assertions and fixtures, through the same Hyperdrive binding the worker
 * uses. One client per test file; never ended by hand (see src/db/client.ts).
 */
let client: postgres.Sql | undefined;

export function sql(): postgres.Sql {
  client ??= postgres(env.HYPERDRIVE.connectionString, { max: 2, fetch_types: false, onnotice: () => {} });
  return client;
}
