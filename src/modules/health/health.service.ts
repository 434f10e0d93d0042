import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { databaseUnavailable } from '../../lib/problem.ts';

/** Any failure of the probe means "not ready", whatever its cause. */
export async function checkDatabase(db: Database): Promise<void> {
  try {
    await db.execute(sql`select 1`);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    console.error(JSON.stringify({ level: 'warn', message: 'readiness probe failed', error: String(cause) }));
    throw databaseUnavailable();
  }
}
