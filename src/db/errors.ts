/**
 * Classifies driver errors without leaking them: connection failures become 503 (the database is
 * unreachable, retry), data exceptions become 422 (defence in depth behind request validation).
 */
const CONNECTION_CODES = new Set([
  'DATABASE_UNREACHABLE',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);
// SQLSTATE: 08 connection exception, 57P01-03 shutdown/cannot connect now, 53300 too many connections,
// 57014 statement cancelled (statement_timeout), 55P03 lock not available (lock_timeout): see
// drizzle/0002_database_timeouts.sql. In each case the statement did not take effect.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '57014', '55P03']);

function* causes(error: unknown): Generator<unknown> {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

export function postgresCode(error: unknown): string | undefined {
  for (const cause of causes(error)) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Refusals a concurrent change can cause where a service did not expect one: a row referenced or deleted
 * meanwhile (23503), a unique value taken meanwhile (23505), a deadlock or serialization failure (40P01,
 * 40001). Nothing was written; the client may retry.
 */
const CONFLICT_SQLSTATES = new Set(['23503', '23505', '40001', '40P01']);

export function classifyDatabaseError(error: unknown): 'unavailable' | 'invalid-value' | 'conflict' | undefined {
  for (const cause of causes(error)) {
    const code = (cause as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))
    ) {
      return 'unavailable';
    }
  }
  const sqlstate = postgresCode(error);
  if (sqlstate?.startsWith('22')) return 'invalid-value';
  if (sqlstate && CONFLICT_SQLSTATES.has(sqlstate)) return 'conflict';
  return undefined;
}

/** The constraint a statement violated (postgres.js's `constraint_name`), if any. */
export function violatedConstraint(error: unknown): string | undefined {
  for (const cause of causes(error)) {
    const name = (cause as { constraint_name?: unknown }).constraint_name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}
