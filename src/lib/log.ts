import { LOG_LEVELS, type LogLevel } from '../config.ts';

/*
 * Structured logs: one JSON object per line through console.log, which Workers Logs indexes field by
 * field ([observability] in wrangler.toml). Nothing secret goes in: no header, body, token or password,
 * and a failed query's text (which carries its values, db/inline.ts) is reduced to its cause.
 */

export const shouldLog = (level: LogLevel, threshold: LogLevel) =>
  LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);

export function writeLog(level: LogLevel, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ timestamp: new Date().toISOString(), level, ...fields }));
}

/** What a log line may say about an error: its type, message and stack; for a failed query only the driver's cause. */
export function describeError(error: unknown): Record<string, unknown> {
  const err = error instanceof Error ? error : new Error(String(error));
  if (err.message.startsWith('Failed query') && err.cause !== undefined) {
    return { type: err.name, message: 'database query failed', cause: describeError(err.cause) };
  }
  const code = (err as { code?: unknown }).code;
  return { type: err.name, message: err.message, ...(code ? { code } : {}), stack: err.stack };
}

/** Query parameters named like credentials never reach a log line, whatever their value. */
const SECRET_NAME = /pass|secret|token|key|auth|sig|code|session|cookie|credential/i;

export const redactedQuery = (url: URL): Record<string, string> =>
  Object.fromEntries(
    [...url.searchParams].map(([name, value]) => [name, SECRET_NAME.test(name) ? '[redacted]' : value.slice(0, 200)]),
  );
