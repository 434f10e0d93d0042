import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { AppContext, AppEnv } from '../context.ts';
import { describeError, redactedQuery, shouldLog, writeLog } from '../lib/log.ts';
import { loadConfig, type LogLevel } from '../config.ts';
import { AppError } from '../lib/problem.ts';

/**
 * One log line per request, written when the response is ready: who (request id, user), what (method and
 * the route's pattern, never the raw path), how it went (status, duration, database statements and round
 * trips), from where (Cloudflare's colo and country). 5xx lines are at `error` with the error and its
 * stack, 4xx at `warn`, the rest at `info`; LOG_LEVEL drops the lines below it. Field names follow the
 * issue's contract (bench and dashboards read them); values never include headers, bodies or secrets.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  const status = c.res.status;
  const level: LogLevel = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  const threshold = logLevelOf(c);
  if (!shouldLog(level, threshold)) return;
  const traffic = c.get('database')?.traffic();
  const cf = c.req.raw.cf as { colo?: string; country?: string } | undefined;
  writeLog(level, {
    message: 'request',
    request_id: c.get('requestId') ?? null,
    ...(c.get('clientRequestId') ? { client_request_id: c.get('clientRequestId') } : {}),
    method: c.req.method,
    route: routePattern(c),
    status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    user_id: c.get('caller')?.id ?? null,
    db_statements: traffic?.statements ?? 0,
    db_round_trips: traffic?.roundTrips ?? 0,
    ...(cf?.colo ? { colo: cf.colo } : {}),
    ...(cf?.country ? { country: cf.country } : {}),
    ...(threshold === 'debug'
      ? { query: redactedQuery(new URL(c.req.url)), user_agent: c.req.header('User-Agent')?.slice(0, 200) ?? null }
      : {}),
    // A failure of ours (5xx), or a database error answered with a 4xx (a concurrency conflict): what went wrong.
    ...(c.error && (status >= 500 || !(c.error instanceof AppError)) ? { error: describeError(c.error) } : {}),
  });
});

/**
 * The configured LOG_LEVEL, also for requests answered before the context is set up (CORS preflights, bodies
 * over the limit). A configuration that does not load fails the worker at startup; should it reach here,
 * the line is still written, at the default level.
 */
function logLevelOf(c: AppContext): LogLevel {
  try {
    return (c.get('config') ?? loadConfig(c.env)).logLevel;
  } catch {
    return 'info';
  }
}

/** The matched route's pattern in OpenAPI's form (`/projects/{id}`); null when no route matched. */
function routePattern(c: AppContext): string | null {
  const route = matchedRoutes(c).findLast((matched) => matched.method !== 'ALL');
  return route ? route.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}') : null;
}
