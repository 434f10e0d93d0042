import { and, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import { accountTokens } from '../../db/account-schema.ts';
import { guard, GuardedWrite } from '../../db/guards.ts';
import { users } from '../../db/schema.ts';
import { LAST_HOUR, recentAccountTokens, retryAfterHourly } from '../../db/fresh-counts.ts';
import { slots } from '../../db/statements.ts';
import { callerGuards } from '../../db/users.ts';
import { AppError, conflict, validationFailed } from '../../lib/problem.ts';

/*
 * The rules of the account flows (accounts.service.ts), each declared once (db/guards.ts). The token flows'
 * facts join the token a request presents (`account_tokens`, found by its digest and locked, so two
 * requests with one token take turns and only the first finds it unused) and its user (`users`).
 */

const subquery = new QueryBuilder();

/** Unused, unexpired, of an active user. */
const tokenLive = and(
  isNotNull(accountTokens.id),
  isNull(accountTokens.usedAt),
  gt(accountTokens.expiresAt, sql`now()`),
  eq(users.isActive, true),
);
/** Issued in the user's current epoch: a password change or reset, logout-all or a role change ends it. */
const sameEpoch = eq(accountTokens.tokenEpoch, users.tokenEpoch);

/** POST /auth/password/reset. Unknown, used, expired and superseded tokens get one answer. */
export const RESET = new GuardedWrite(
  guard(
    'token_usable',
    and(tokenLive, eq(accountTokens.kind, 'password_reset'), sameEpoch)!,
    () => new AppError('reset_token_invalid', 'the reset token is unknown, used or expired; ask for a new one'),
  ),
);

/** Another account that already uses the address a change moves to. */
const otherUser = alias(users, 'other_user');

/**
 * POST /auth/email/verify, for a signup's token (valid while the account still has the address it was
 * sent to) and an email change's (valid in the epoch it was asked in). The new address may have been
 * taken since it was asked for: only then does anyone learn it has an account.
 */
export const VERIFY = new GuardedWrite(
  guard(
    'token_usable',
    and(
      tokenLive,
      sql`(
        (${accountTokens.kind} = 'email_verify' and lower(${users.email}) = ${accountTokens.email})
        or (${accountTokens.kind} = 'email_change' and ${sameEpoch})
      )`,
    )!,
    () => new AppError('verification_token_invalid', 'the verification token is unknown, used or expired'),
  ),
  guard(
    'email_free',
    sql`(${accountTokens.kind} <> 'email_change' or not exists (${subquery
      .select({ one: sql`1` })
      .from(otherUser)
      .where(and(eq(sql`lower(${otherUser.email})`, accountTokens.email), sql`${otherUser.id} <> ${users.id}`))}))`,
    () => conflict('email_taken', 'another account uses this address now'),
    'users_email_lower_key',
  ),
);

/** How many verification messages an account may ask for in an hour (signup's own included). */
export const VERIFICATION_MESSAGES_PER_HOUR = 3;

/** The caller's verification messages of the last hour, counted after the caller's row is locked. */
const recentVerifications = recentAccountTokens(users.id, 'email_verify', LAST_HOUR);

/** Seconds until the oldest of them leaves the hour. */
export const verificationRetryAfter = retryAfterHourly(
  accountTokens,
  accountTokens.createdAt,
  and(eq(accountTokens.userId, users.id), eq(accountTokens.kind, 'email_verify'))!,
).as('retry_after');

/** POST /auth/email/verify/resend: the caller's own, unverified address, a few times an hour. */
export const RESEND = new GuardedWrite<{ retryAfter: number | null }>(
  ...callerGuards<{ retryAfter: number | null }>(),
  guard('unverified', isNull(users.emailVerifiedAt), () =>
    conflict('email_already_verified', 'this address is already verified'),
  ),
  guard(
    'below_hourly_limit',
    sql`${recentVerifications} < ${sql.raw(String(VERIFICATION_MESSAGES_PER_HOUR))}`,
    (facts) =>
      new AppError('rate_limited', `at most ${VERIFICATION_MESSAGES_PER_HOUR} verification messages an hour`, {
        headers: { 'Retry-After': String(Math.max(1, facts.retryAfter ?? 1)) },
      }),
  ),
);

const $ = slots<{ newEmail: string }>();

/** POST /auth/me/email (after the current password): a change to another address than the one it has. */
export const CHANGE_EMAIL = new GuardedWrite(
  ...callerGuards(),
  guard('address_differs', sql`lower(${users.email}) <> ${$.newEmail}::text`, () =>
    validationFailed([{ path: 'body.new_email', message: 'is already the address of this account' }]),
  ),
);
