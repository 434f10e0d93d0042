import { and, inArray, isNull, lt, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { AppConfig } from '../../config.ts';
import type { Database } from '../../db/client.ts';
import { authThrottles } from '../../db/schema.ts';
import { slots, statement, type Slots } from '../../db/statements.ts';
import { AppError } from '../../lib/problem.ts';
import { sha256Hex } from '../../lib/secrets.ts';

/*
 * Password guessing is slowed in PostgreSQL, so that it holds at every Cloudflare location (the per-IP
 * binding counts per location). Every attempt is counted before its password is checked, by the statement
 * that reads the throttle, so however many requests race, no more than the limit's worth are checked: the
 * counting upsert takes the row's lock and sees the newest count. A failure keeps its count; a success
 * clears the count of its network (`settleSuccess`).
 *
 * Three keys, each a digest so the table holds no email:
 * - `network`: one account from one client network (/24 or /64, lib/client-address.ts). After `limit`
 *   attempts in a row it waits `backoffSeconds`, doubling with each further attempt up to an hour. An
 *   attacker's failures hold back only the attacker's own network, never the account holder's.
 * - `account`: one account across every network, a much higher limit with a longer wait, which stops
 *   guessing spread over many networks. It does not hold back a network the account logged in from in the
 *   last `trustedNetworkDays`, so an attacker cannot lock the holder out of their usual networks either.
 * - `password change`: a signed-in user's `POST /auth/me/password`, apart from logins, so nobody can lock
 *   a user out of changing their password by failing logins with their email.
 * A day without attempts starts a key over. An unknown email is counted like a known one, so neither the
 * answer nor its timing says which emails have accounts.
 */

const MAX_BACKOFF_SECONDS = 3600;

export const throttleKeys = async (email: string, network: string) => ({
  network: await sha256Hex(`login:${email}:${network}`),
  account: await sha256Hex(`login:${email}`),
});
export const passwordChangeKey = (userId: string) => sha256Hex(`password-change:${userId}`);

/** The problem every refused attempt gets, whichever key refused it. */
export function tooManyAttempts(retryAfter: number): AppError {
  return new AppError('too_many_attempts', 'too many failed password attempts; retry later', {
    headers: { 'Retry-After': String(Math.max(1, retryAfter)) },
  });
}

const rows = authThrottles;

/** Seconds until `blockedUntil` (0 when it is past or null), as the database's clock says. */
export const secondsUntil = (blockedUntil: SQLWrapper) =>
  sql<number>`coalesce(greatest(0, ceil(extract(epoch from ${blockedUntil} - now()))), 0)::int`;

/**
 * The configured rules, as the placeholder values of the statements that count attempts: the statement is
 * one whatever the configuration, and `ruleSlots` reads a key's rule from them.
 */
export const throttleValues = (config: AppConfig['loginThrottle']) => ({
  networkLimit: config.failureLimit,
  networkBackoffSeconds: config.backoffSeconds,
  accountLimit: config.accountFailureLimit,
  accountBackoffSeconds: config.accountBackoffSeconds,
  trustedNetworkDays: config.trustedNetworkDays,
});
export type ThrottleValues = ReturnType<typeof throttleValues>;

/** A rule as SQL: the limit and backoff of `key` (the network's or the account's), from `throttleValues`. */
export type RuleSql = { limit: SQL; backoffSeconds: SQL };
export const ruleSlots = ($: Slots<ThrottleValues>, key: 'network' | 'account'): RuleSql =>
  key === 'network'
    ? { limit: sql`${$.networkLimit}::int`, backoffSeconds: sql`${$.networkBackoffSeconds}::int` }
    : { limit: sql`${$.accountLimit}::int`, backoffSeconds: sql`${$.accountBackoffSeconds}::int` };

/**
 * When a key with `attempts` counted is blocked until: from the limit on, the backoff doubling per attempt,
 * at most an hour. The exponent stops at 12 (any backoff of a second or more has reached the hour by then):
 * a key guessed at once an hour never starts over, and 2 to the power of its count would overflow.
 */
const blockedAfter = (attempts: SQL, rule: RuleSql) => {
  const wait = sql`least(${rule.backoffSeconds} * power(2, least(${attempts} - ${rule.limit}, 12)), ${sql.raw(String(MAX_BACKOFF_SECONDS))})`;
  return sql`case when ${attempts} >= ${rule.limit} then now() + make_interval(secs => ${wait}) end`;
};

/**
 * An upsert that counts one attempt for `key` and returns the new count (`attempts`), as the body of a
 * CTE. `when` decides whether there is an attempt to count at all. A key that is blocked counts nothing
 * and returns no row, unless `evenIfBlocked` (the account-wide key, which a trusted network passes).
 * ON CONFLICT DO UPDATE locks the existing row and evaluates against its newest version, so concurrent
 * attempts are counted one after another and each sees the counts before it.
 */
export function countAttempt(key: SQL, rule: RuleSql, options: { when?: SQL; evenIfBlocked?: boolean } = {}): SQL {
  const next = sql`case when ${rows.lastAttemptAt} < now() - interval '1 day' then 1 else ${rows.attempts} + 1 end`;
  return sql`
    insert into ${rows} (key_hash, attempts, blocked_until, last_attempt_at)
    select ${key}, 1, ${blockedAfter(sql`1`, rule)}, now()
    ${options.when ? sql`where ${options.when}` : sql``}
    on conflict (key_hash) do update set
      attempts = ${next},
      blocked_until = ${blockedAfter(next, rule)},
      last_attempt_at = now()
    ${options.evenIfBlocked ? sql`` : sql`where ${rows.blockedUntil} is null or ${rows.blockedUntil} <= now()`}
    returning attempts`;
}

const FORGET_STALE_THROTTLES = statement(
  'forget_stale_throttles',
  slots<{ trustedNetworkDays: number; batch: number }>(),
  (db, $) => {
    const stale = db
      .select({ key: rows.keyHash })
      .from(rows)
      .where(
        and(
          lt(rows.lastAttemptAt, sql`now() - interval '1 day'`),
          or(isNull(rows.blockedUntil), lt(rows.blockedUntil, sql`now()`)),
          or(
            isNull(rows.succeededAt),
            lt(rows.succeededAt, sql`now() - make_interval(days => ${$.trustedNetworkDays}::int)`),
          ),
        ),
      )
      .limit($.batch);
    return db.delete(rows).where(inArray(rows.keyHash, stale)).returning({ key: rows.keyHash });
  },
);

/**
 * The daily job's part (src/index.ts): keys that hold nothing any more, no attempt for a day, no block, and
 * no success recent enough to trust the network, at most `batch` per run. Returns how many went.
 */
export async function forgetStaleThrottles(db: Database, trustedNetworkDays: number, batch = 10_000): Promise<number> {
  const deleted = await FORGET_STALE_THROTTLES.on(db).execute({ trustedNetworkDays, batch });
  return deleted.length;
}
