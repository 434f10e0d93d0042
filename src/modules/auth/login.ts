import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import type { AppConfig } from '../../config.ts';
import { auditOf, requestValues, type RequestValues } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { regroup } from '../../db/pagination.ts';
import { authThrottles, sessions, users } from '../../db/schema.ts';
import { FLAG, slots, statement, statementFamily } from '../../db/statements.ts';
import type { RequestWork } from '../../db/traffic.ts';
import type { RequestMeta } from '../../lib/actor.ts';
import { networkOf } from '../../lib/client-address.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../lib/password.ts';
import { AppError, forbidden } from '../../lib/problem.ts';
import { resendVerification } from '../accounts/accounts.service.ts';
import {
  issueTokens,
  sessionCtes,
  sessionStart,
  type IssuedTokens,
  type SessionStartValues,
} from '../sessions/sessions.service.ts';
import {
  countAttempt,
  ruleSlots,
  secondsUntil,
  throttleKeys,
  throttleValues,
  tooManyAttempts,
  type ThrottleValues,
} from './throttle.ts';

const subquery = new QueryBuilder();
const userColumns = getTableColumns(users);
const networkRow = alias(authThrottles, 'network_row');
const accountRow = alias(authThrottles, 'account_row');

// One body for unknown email and wrong password, so the answer does not reveal who has an account.
const invalidCredentials = () =>
  new AppError('credentials_invalid', 'invalid email or password', {
    headers: { 'WWW-Authenticate': 'Bearer realm="aegisflow"' },
  });

/**
 * Login's first statement, in one round trip: the attempt is counted against the account's network key
 * and, once admitted there, against its account-wide key (throttle.ts); the account is read; and for an
 * active account whose attempt was admitted, its new session and first refresh token are written before
 * the password is checked. The token exists only in this worker until the password proves right; a wrong
 * password deletes the session again (`recordFailure`).
 *
 * `gate` reads both keys as the statement found them, for the account-wide rule (does it hold this network
 * back?) and for Retry-After. The network key's own limit is decided by its upsert, against the row's
 * newest version, which is what makes concurrent attempts count one after another.
 */
const BEGIN_LOGIN = statement(
  'begin_login',
  slots<ThrottleValues & SessionStartValues & { email: string; networkKey: string; accountKey: string }>(),
  (db, $) => {
    const networkKey = sql`${$.networkKey}::text`;
    const accountKey = sql`${$.accountKey}::text`;
    const trusted = sql`coalesce(${networkRow.succeededAt} > now() - make_interval(days => ${$.trustedNetworkDays}::int), false)`;
    const gate = db.$with('gate').as(
      db
        .select({
          networkWait: secondsUntil(networkRow.blockedUntil).as('network_wait'),
          accountWait: sql<number>`case when ${trusted} then 0 else ${secondsUntil(accountRow.blockedUntil)} end`.as(
            'account_wait',
          ),
        })
        .from(sql`(select 1) as attempt`)
        .leftJoin(networkRow, eq(networkRow.keyHash, networkKey))
        .leftJoin(accountRow, eq(accountRow.keyHash, accountKey)),
    );
    const admitted = db
      .$with('admitted', { attempts: sql<number>`attempts`.as('attempts') })
      .as(
        countAttempt(networkKey, ruleSlots($, 'network'), { when: sql`(select ${gate.accountWait} from ${gate}) = 0` }),
      );
    // Every admitted attempt counts against the account too; a success takes its own back (settleSuccess).
    const counted = db.$with('counted', {}).as(
      countAttempt(accountKey, ruleSlots($, 'account'), {
        when: sql`exists (select 1 from ${admitted})`,
        evenIfBlocked: true,
      }),
    );
    const candidate = db.$with('candidate').as(
      db
        .select(userColumns)
        .from(sql`(select 1) as attempt`)
        .leftJoin(users, eq(sql`lower(${users.email})`, $.email)),
    );
    const owner = subquery
      .select({
        userId: sql`${candidate.id}`.as('user_id'),
        tokenEpoch: sql`${candidate.tokenEpoch}`.as('token_epoch'),
      })
      .from(candidate)
      .where(and(eq(candidate.isActive, true), sql`exists (select 1 from ${admitted})`));
    const [session, token] = sessionCtes(db, $, owner);
    return db
      .with(gate, admitted, counted, candidate, session, token)
      .select({
        user: regroup(userColumns, candidate),
        admitted: sql<boolean>`exists (select 1 from ${admitted})`,
        networkWait: gate.networkWait,
        accountWait: gate.accountWait,
        sessionId: sql<string | null>`(select ${session.id} from ${session})`,
      })
      .from(candidate)
      .crossJoin(gate);
  },
);

/**
 * Logs in and starts a session. A refused attempt (either key blocked, or the network's limit reached by
 * attempts still in flight) is a 429 before any hashing; an unknown email spends the same hashing time as
 * a wrong password and is counted the same, so neither the status, the timing nor the backoff says whether
 * an account exists. A success costs a second statement, which gives the counted attempt back
 * (`settleSuccess`): that is the price of counting every attempt before its password is checked.
 */
export async function logIn(
  db: Database,
  email: string,
  password: string,
  request: RequestMeta,
  config: AppConfig,
  work: RequestWork,
  mailAfterResponse: (mailIds: number[]) => void = () => {},
): Promise<IssuedTokens> {
  const keys = await throttleKeys(email, networkOf(request.ip ?? ''));
  const start = await sessionStart(config, request);
  const [row] = await BEGIN_LOGIN.on(db).execute({
    ...throttleValues(config.loginThrottle),
    email,
    networkKey: keys.network,
    accountKey: keys.account,
    ...start.values,
  });
  const { admitted, networkWait, accountWait, sessionId } = row!;
  // Refused by a block the statement saw, or by attempts that reached the limit while it waited.
  if (!admitted) throw tooManyAttempts(Math.max(networkWait, accountWait) || config.loginThrottle.backoffSeconds);
  // The candidate is the statement's FROM, so an unknown email reads as a user of null columns.
  const user = row!.user.id === null ? undefined : row!.user;
  work.passwordHashes++;
  const { valid, needsRehash } = await verifyPassword(
    password,
    user?.passwordHash ?? (await dummyPasswordHash(config.passwordPolicy)),
    config.passwordPolicy,
  );
  if (!user || !valid) {
    if (user) await recordFailure(db, { userId: user.id, actorId: null, request, discardSessionId: sessionId });
    throw invalidCredentials();
  }
  // Checked only after the password, so an attacker cannot probe which accounts are deactivated.
  if (!user.isActive) throw forbidden('account_inactive', 'this account is inactive');
  // Likewise only after the password: REQUIRE_VERIFIED_EMAIL keeps unverified accounts out; the session
  // the first statement began goes again. Signed out, the holder cannot ask for a new link, so the refusal
  // mails one (within the hourly limit of verification messages).
  if (config.accounts.requireVerifiedEmail && user.emailVerifiedAt === null) {
    await recordFailure(db, { userId: user.id, actorId: null, request, discardSessionId: sessionId });
    const caller = { id: user.id, tokenEpoch: user.tokenEpoch, request };
    const mailed = await resendVerification(db, caller, config).catch((refusal: unknown) => {
      if (refusal instanceof AppError && refusal.code === 'rate_limited') return { mailIds: [] };
      throw refusal;
    });
    mailAfterResponse(mailed.mailIds);
    throw forbidden('email_unverified', 'confirm your email address first: a link to do so was mailed to it');
  }
  if (needsRehash) work.passwordHashes++;
  const passwordHash = needsRehash ? await hashPassword(password, config.passwordPolicy) : undefined;
  await settleSuccess(db, keys, user.id, passwordHash);
  // An active account whose attempt was admitted always got its session in beginLogin.
  return issueTokens(config, user, sessionId!, start.refreshToken);
}

const SETTLE_LOGIN = statementFamily(
  'settle_login',
  { rehash: FLAG },
  slots<{ networkKey: string; accountKey: string; userId: string; passwordHash: string | null }>(),
  (db, shape, $) => {
    const network = db.$with('network').as(
      db
        .update(authThrottles)
        .set({ attempts: 0, blockedUntil: null, succeededAt: sql`now()` })
        .where(eq(authThrottles.keyHash, $.networkKey))
        .returning({ key: authThrottles.keyHash }),
    );
    // It reads `network`, so PostgreSQL runs that first: a success locks the two keys in the order login's
    // first statement does. Unordered, a success and a concurrent attempt of the account could deadlock.
    const account = db.$with('account').as(
      db
        .update(authThrottles)
        .set({ attempts: sql`greatest(${authThrottles.attempts} - 1, 0)` })
        .where(and(eq(authThrottles.keyHash, $.accountKey), sql`(select count(*) from ${network}) >= 0`))
        .returning({ key: authThrottles.keyHash }),
    );
    return db
      .with(network, account)
      .update(users)
      .set({ passwordHash: sql`${$.passwordHash}::text` })
      .where(shape.rehash ? eq(users.id, $.userId) : sql`false`);
  },
);

/**
 * A success, in one statement: its network's attempts cleared and the network remembered as one the
 * account logs in from; its own attempt taken back from the account-wide count (the failures of other
 * networks stay); an outdated hash replaced.
 */
async function settleSuccess(
  db: Database,
  keys: { network: string; account: string },
  userId: string,
  passwordHash: string | undefined,
): Promise<void> {
  await SETTLE_LOGIN.on(db, { rehash: passwordHash !== undefined }).execute({
    networkKey: keys.network,
    accountKey: keys.account,
    userId,
    passwordHash: passwordHash ?? null,
  });
}

const RECORD_LOGIN_FAILURE = statement(
  'record_login_failure',
  slots<RequestValues & { userId: string; discardSessionId: string | null }>(),
  (db, $) => {
    const audit = db.$with('audit', {}).as(
      auditOf($, 'auth.login_failed', 'user', {
        from: sql`(select 1) as failure`,
        entityId: sql`${$.userId}::uuid`,
        projectId: null,
        changes: sql`'{}'::jsonb`,
      }),
    );
    // A data-modifying CTE runs whether or not the statement reads it; no session to discard matches nothing.
    return db
      .with(audit)
      .delete(sessions)
      .where(eq(sessions.id, sql`${$.discardSessionId}::uuid`));
  },
);

/**
 * A wrong password for an existing account (its attempt is already counted): the `auth.login_failed`
 * event, and the session login started before the check deleted (its refresh token goes with it, on
 * delete cascade), in one statement. `actorId`: who acted (the user changing their password), or nobody
 * known (a login).
 */
export async function recordFailure(
  db: Database,
  failed: { userId: string; actorId: string | null; request: RequestMeta; discardSessionId?: string | null },
): Promise<void> {
  await RECORD_LOGIN_FAILURE.on(db).execute({
    ...requestValues(failed.request, failed.actorId),
    userId: failed.userId,
    discardSessionId: failed.discardSessionId ?? null,
  });
}
