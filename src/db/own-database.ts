import type { AppConfig } from '../config.ts';
import type { AppContext } from '../context.ts';
import type { Bindings } from '../env.ts';
import { describeError, writeLog } from '../lib/log.ts';
import { createDatabase, type Database } from './client.ts';

/** Runs `work` on a database connection of its own (after a response, or in a scheduled job). */
export async function withOwnDatabase<T>(bindings: Bindings, config: AppConfig, work: (db: Database) => Promise<T>) {
  const database = createDatabase(bindings.HYPERDRIVE.connectionString, config.databaseConnectTimeoutSeconds);
  return database.run(() => work(database.db));
}

/**
 * Runs `work` on a connection of its own once the response has gone (`waitUntil`), so the request neither
 * waits for it nor counts it among its statements; a failure is logged as `what failed`. Returns false where
 * there is no execution context (an app driven directly in tests), and nothing runs.
 */
export function afterResponse(c: AppContext, what: string, work: (db: Database) => Promise<unknown>): boolean {
  let context: AppContext['executionCtx'];
  try {
    context = c.executionCtx;
  } catch {
    return false;
  }
  context.waitUntil(
    withOwnDatabase(c.env, c.get('config'), work).catch((error: unknown) =>
      writeLog('error', { message: `${what} failed`, error: describeError(error) }),
    ),
  );
  return true;
}
