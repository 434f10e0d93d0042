import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import type { AppConfig } from '../../config.ts';
import { auditInsert } from '../../db/audit.ts';
import { prepared, type Database } from '../../db/client.ts';
import { regroup } from '../../db/pagination.ts';
import { authThrottles, sessions, users } from '../../db/schema.ts';
import type { RequestWork } from '../../db/traffic.ts';
import type { RequestMeta } from '../../lib/actor.ts';
import { networkOf } from '../../lib/client-address.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../lib/password.ts';
import { AppError, forbidden } from '../../lib/problem.ts';
import { issueTokens, sessionCtes, sessionStart, type IssuedTokens } from '../sessions/sessions.service.ts';
import { countAttempt, rulesOf, secondsUntil, throttleKeys, tooManyAttempts } from './throttle.ts';

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
function beginLogin(db: Database, config: AppConfig) {
  const rules = rulesOf(config.loginThrottle);
  const name = `begin_login:${JSON.stringify(rules)}:${config.loginThrottle.trustedNetworkDays}`;
  return prepared(db, name, () => {
    const networkKey = sql`${sql.placeholder('networkKey')}::text`;
    const accountKey = sql`${sql.placeholder('accountKey')}::text`;
    const trusted = sql`coalesce(${networkRow.succeededAt} > now() - make_interval(days => ${sql.raw(String(config.loginThrottle.trustedNetworkDays))}), false)`;
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
      .as(countAttempt(networkKey, rules.network, { when: sql`(select account_wait from ${gate}) = 0` }));
    // Every admitted attempt counts against the account too; a success takes its own back (settleSuccess).
    const counted = db
      .$with('counted', {})
      .as(
        countAttempt(accountKey, rules.account, { when: sql`exists (select 1 from ${admitted})`, evenIfBlocked: true }),
      );
    const candidate = db.$with('candidate').as(
      db
        .select(userColumns)
        .from(sql`(select 1) as attempt`)
        .leftJoin(users, eq(sql`lower(${users.email})`, sql.placeholder('email'))),
    );
    const owner = subquery
      .select({
        userId: sql`${candidate.id}`.as('user_id'),
        tokenEpoch: sql`${candidate.tokenEpoch}`.as('token_epoch'),
      })
      .from(candidate)
      .where(and(eq(candidate.isActive, true), sql`exists (select 1 from ${admitted})`));
    const [session, token] = sessionCtes(db, owner);
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
  });
}

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
): Promise<IssuedTokens> {
  const keys = await throttleKeys(email, networkOf(request.ip ?? ''));
  const start = await sessionStart(config, request);
  const [row] = await beginLogin(db, config).execute({
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
  if (needsRehash) work.passwordHashes++;
  const passwordHash = needsRehash ? await hashPassword(password, config.passwordPolicy) : undefined;
  await settleSuccess(db, keys, user.id, passwordHash);
  // An active account whose attempt was admitted always got its session in beginLogin.
  return issueTokens(config, user, sessionId!, start.refreshToken);
}

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
  const statement = prepared(db, `settle_login:${passwordHash !== undefined}`, () => {
    const network = db.$with('network').as(
      db
        .update(authThrottles)
        .set({ attempts: 0, blockedUntil: null, succeededAt: sql`now()` })
        .where(eq(authThrottles.keyHash, sql.placeholder('networkKey')))
        .returning({ key: authThrottles.keyHash }),
    );
    const account = db.$with('account').as(
      db
        .update(authThrottles)
        .set({ attempts: sql`greatest(${authThrottles.attempts} - 1, 0)` })
        .where(eq(authThrottles.keyHash, sql.placeholder('accountKey')))
        .returning({ key: authThrottles.keyHash }),
    );
    return db
      .with(network, account)
      .update(users)
      .set({ passwordHash: sql`${sql.placeholder('passwordHash')}::text` })
      .where(and(eq(users.id, sql.placeholder('userId')), sql`${passwordHash !== undefined}`));
  });
  await statement.execute({
    networkKey: keys.network,
    accountKey: keys.account,
    userId,
    passwordHash: passwordHash ?? null,
  });
}

/**
 * A wrong password for an existing account (its attempt is already counted): the `auth.login_failed`
 * event, and the session login started before the check deleted (its refresh token goes with it, on
 * delete cascade), in one statement.
 */
export async function recordFailure(
  db: Database,
  failed: { userId: string; actorId: string | null; request: RequestMeta; discardSessionId?: string | null },
): Promise<void> {
  const event = auditInsert(
    db,
    { id: failed.actorId, request: failed.request },
    { action: 'auth.login_failed', entityType: 'user', entityId: failed.userId, changes: {} },
  );
  if (!failed.discardSessionId) return void (await event);
  const audit = db.$with('audit').as(event);
  await db.with(audit).delete(sessions).where(eq(sessions.id, failed.discardSessionId));
}
