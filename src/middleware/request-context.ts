import { createMiddleware } from 'hono/factory';
import { loadConfig } from '../config.ts';
import { createDatabase } from '../db/client.ts';
import { trafficTiming, workTiming } from '../db/traffic.ts';
import type { AppEnv } from '../context.ts';

/**
 * Makes the parsed configuration and the database available to everything downstream, with this
 * request's connection behind it. The connection is opened on first use, so routes that never query
 * never connect.
 */
export const provideContext = createMiddleware<AppEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  c.set('config', config);
  const database = createDatabase(c.env.HYPERDRIVE.connectionString, config.databaseConnectTimeoutSeconds);
  c.set('database', database);
  const work = { passwordHashes: 0 };
  c.set('work', work);
  await database.run(next);
  if (config.serverTiming)
    c.header('Server-Timing', `${trafficTiming(database.traffic())}, ${workTiming(work)}`, { append: true });
});
