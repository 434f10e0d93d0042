import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';
import { serviceUnavailable } from '../lib/problem.ts';

/**
 * The last bound on every request: whatever stalls (a database that stops answering mid-request, a
 * stuck socket), the client gets 503 with Retry-After after `REQUEST_TIMEOUT_SECONDS`. Stalled statements
 * are normally cancelled earlier, and rolled back, by the database's own limits
 * (drizzle/0002_database_timeouts.sql), so this deadline stays above them.
 */
export const deadline = createMiddleware<AppEnv>(async (c, next) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(serviceUnavailable('timed_out', 'the request took too long; retry shortly')),
      c.get('config').requestTimeoutSeconds * 1000,
    );
  });
  try {
    await Promise.race([next(), expired]);
  } finally {
    clearTimeout(timer);
  }
});
