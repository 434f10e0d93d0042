import { drizzle } from 'drizzle-orm/postgres-js';
import { loadConfig, type AppConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { classifyDatabaseError } from '../../src/db/errors.ts';
import { AppError } from '../../src/lib/problem.ts';
import { devDatabaseUrl } from './dev-database.ts';
import { readDevVars } from './dev-vars.ts';
import { postgres } from './node-postgres.ts';

export interface ToolDatabase {
  url: string;
  db: Database;
  /** The worker's configuration in this checkout (wrangler.toml vars, .dev.vars, environment), for its hashing policy. */
  config: AppConfig;
  close(): Promise<void>;
}

/** The database a command-line tool works on: DATABASE_URL, or the embedded one `npm run dev` runs. */
export async function openToolDatabase(): Promise<ToolDatabase> {
  const config = loadConfig({ ...(await readDevVars()), ...process.env, APP_ENV: 'development' } as never);
  const url = process.env.DATABASE_URL ?? devDatabaseUrl();
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  return { url, db: drizzle(client) as unknown as Database, config, close: () => client.end() };
}

/** What a tool prints for an error: the rule that refused it, or the database's cause, never a statement. */
export function describeToolError(error: unknown): string {
  if (error instanceof AppError) return error.message;
  if (classifyDatabaseError(error) === 'unavailable')
    return 'cannot reach the database; start it with `npm run dev` or set DATABASE_URL';
  // Driver errors quote the statement and its parameters (a password hash among them): print the cause only.
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return cause ?? (error instanceof Error ? error.message.split('\n')[0]! : String(error));
}
