import { createMiddleware } from 'hono/factory';
import { loadConfig } from '../config.ts';
import { createDatabase } from '../db/client.ts';
import type { AppEnv } from '../context.ts';

/**
 * Makes the parsed configuration and a per-request database client available to everything downstream.
 * The client is built on first use, so routes that never query neither build one nor connect.
 */
export const provideContext = createMiddleware<AppEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  c.set('config', config);
  const database = createDatabase(c.env.HYPERDRIVE.connectionString, config.databaseConnectTimeoutSeconds);
  c.set('database', database);
  await database.run(next);
  if (config.serverTiming) {
    const { statements, roundTrips } = c.get('database').traffic();
    c.header('Server-Timing', `db;desc="statements";dur=${statements}, db-rt;desc="round trips";dur=${roundTrips}`, { append: true });
  }
});
