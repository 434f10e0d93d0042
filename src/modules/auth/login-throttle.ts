import { eq, sql, type SQL } from 'drizzle-orm';
import type { AppConfig } from '../../config.ts';
import { auditInsert } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import type { RequestMeta } from '../../lib/actor.ts';
import { loginThrottles, sessions } from '../../db/schema.ts';
import { AppError } from '../../lib/problem.ts';
import { sha256Hex } from '../../lib/secrets.ts';

/*
 * Per-account backoff against password guessing, in PostgreSQL so that it holds everywhere (the per-IP
 * binding counts per location). Keyed by the email's digest whether or not an account has it, so a 429
 * says nothing about which emails exist; a blocked attempt is refused before any hashing. After
 * `failureLimit` consecutive failures the address waits `backoffSeconds`, doubling with each further
 * failure up to an hour; a successful login clears the count, and a day without failures starts it over.
 */

const MAX_BACKOFF_SECONDS = 3600;

export const throttleKey = (email: string) => sha256Hex(`login:${email}`);

/** Seconds until the address may try again (0: now), computed by the database so no clock differs. */
export const retryAfterSeconds = sql<number>`coalesce(greatest(0, ceil(extract(epoch from ${loginThrottles.blockedUntil} - now()))), 0)::int`;

/** How long the address must still wait (0: it may try now), read alone. */
export async function secondsToWait(db: Database, key: string): Promise<number> {
  const [row] = await db.select({ retryAfter: retryAfterSeconds }).from(loginThrottles).where(eq(loginThrottles.emailHash, key));
  return row?.retryAfter ?? 0;
}

export function tooManyAttempts(retryAfter: number): AppError {
  return new AppError(429, 'too many failed logins for this account; retry later', { headers: { 'Retry-After': String(retryAfter) } });
}

/**
 * Counts one failed attempt for `key`, blocking the address once the count reaches the limit. A failure
 * against an existing account (`failed`) writes its `auth.login_failed` event in the same statement, and
 * deletes the session login started before the password was checked (`discardSessionId`).
 */
export async function recordLoginFailure(
  db: Database,
  key: string,
  config: AppConfig['loginThrottle'],
  failed?: { userId: string; actorId: string | null; request: RequestMeta; discardSessionId?: string | null },
): Promise<void> {
  const limit = sql.raw(String(config.failureLimit));
  const blockAfter = (failures: SQL) =>
    sql`case when ${failures} >= ${limit} then now() + make_interval(secs => least(${sql.raw(String(config.backoffSeconds))} * power(2, ${failures} - ${limit}), ${sql.raw(String(MAX_BACKOFF_SECONDS))})) end`;
  const next = sql`case when ${loginThrottles.lastFailureAt} < now() - interval '1 day' then 1 else ${loginThrottles.failures} + 1 end`;
  const audit = failed
    ? [db.$with('audit').as(auditInsert(db, { id: failed.actorId, request: failed.request }, { action: 'auth.login_failed', entityType: 'user', entityId: failed.userId, changes: {} }))]
    : [];
  // Its refresh token goes with it (on delete cascade).
  const discarded = failed?.discardSessionId ? [db.$with('discarded').as(db.delete(sessions).where(eq(sessions.id, failed.discardSessionId)))] : [];
  await db
    .with(...audit, ...discarded)
    .insert(loginThrottles)
    .values({ emailHash: key, failures: 1, blockedUntil: blockAfter(sql`1`), lastFailureAt: sql`now()` })
    .onConflictDoUpdate({ target: loginThrottles.emailHash, set: { failures: next, blockedUntil: blockAfter(next), lastFailureAt: sql`now()` } });
}

/** A successful login forgets the address's failures. */
export const clearLoginFailures = (db: Database, key: string) => db.delete(loginThrottles).where(eq(loginThrottles.emailHash, key));
