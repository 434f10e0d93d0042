import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import { auditOf, changesOf, rowBefore } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
import type { AppConfig } from '../../config.ts';
import { prepared, type Database } from '../../db/client.ts';
import type { RequestWork } from '../../db/traffic.ts';
import { loginThrottles, users, type UserRow } from '../../db/schema.ts';
import { callerValues, findCaller, isCaller } from '../../db/users.ts';
import { authorizeActor, type Caller, type RequestMeta } from '../../lib/actor.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../lib/password.ts';
import { AppError, forbidden } from '../../lib/problem.ts';
import { createUser } from '../users/users.service.ts';
import { issueTokens, revokeEverySession, sessionCtes, sessionStart, type IssuedTokens } from '../sessions/sessions.service.ts';
import { clearLoginFailures, recordLoginFailure, retryAfterSeconds, secondsToWait, throttleKey, tooManyAttempts } from './login-throttle.ts';

const subquery = new QueryBuilder();
const userColumns = getTableColumns(users);

export interface SignupInput {
  email: string;
  password: string;
  fullName?: string | null;
}

/** Self-service signup always creates an ordinary user; only an admin or the CLI makes admins. */
export function signUp(db: Database, input: SignupInput, request: RequestMeta, config: AppConfig, work: RequestWork): Promise<UserRow> {
  work.passwordHashes++;
  return createUser(db, { ...input, role: 'user' }, config.passwordPolicy, request);
}

// One body for unknown email and wrong password, so the answer does not reveal who has an account.
const invalidCredentials = () =>
  new AppError(401, 'invalid email or password', { headers: { 'WWW-Authenticate': 'Bearer realm="aegisflow"' } });

/**
 * Login's one statement: the account and the address's backoff, and, for an active account that may try
 * now, its new session and first refresh token, written before the password is checked. The token exists
 * only in this worker until the password proves right and it is returned; a wrong password deletes the
 * session again in the statement that counts the failure (`recordLoginFailure`). So a successful login is
 * one round trip to the database, not a read and then a write: from the edge, a round trip saved is tens of
 * milliseconds (bench/README.md, the edge latency model).
 */
function beginLogin(db: Database) {
  return prepared(db, 'begin_login', () => {
    const candidate = db.$with('candidate').as(
      db
        .select({ ...userColumns, retryAfter: retryAfterSeconds.as('retry_after'), failures: sql<number | null>`${loginThrottles.failures}`.as('failures') })
        .from(sql`(select 1) as attempt`)
        .leftJoin(users, eq(sql`lower(${users.email})`, sql.placeholder('email')))
        .leftJoin(loginThrottles, eq(loginThrottles.emailHash, sql.placeholder('throttleKey'))),
    );
    const [session, token] = sessionCtes(db, subquery.select({ userId: sql`${candidate.id}`.as('user_id') }).from(candidate).where(and(eq(candidate.isActive, true), eq(candidate.retryAfter, 0))));
    return db
      .with(candidate, session, token)
      .select({ user: regroup(userColumns, candidate), retryAfter: candidate.retryAfter, failures: candidate.failures, sessionId: sql<string | null>`(select ${session.id} from ${session})` })
      .from(candidate)
      .prepare('begin_login');
  });
}

/**
 * Logs in and starts a session, in one statement when nothing else is due. A blocked address is refused
 * before any hashing (429); an unknown email spends the same hashing time as a wrong password and counts the
 * same failure, so neither the status, the timing nor the backoff says whether an account exists. After a
 * success, a second statement runs only when there is more to write: earlier failures to clear, or an
 * outdated hash to replace.
 */
export async function logIn(db: Database, email: string, password: string, request: RequestMeta, config: AppConfig, work: RequestWork): Promise<IssuedTokens> {
  const key = await throttleKey(email);
  const start = await sessionStart(config, request);
  const [row] = await beginLogin(db).execute({ email, throttleKey: key, ...start.values });
  const { retryAfter, failures, sessionId } = row!;
  // The candidate is the statement's FROM, so an unknown email reads as a user of null columns.
  const user = row!.user.id === null ? undefined : row!.user;
  if (retryAfter > 0) throw tooManyAttempts(retryAfter);
  work.passwordHashes++;
  const { valid, needsRehash } = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash(config.passwordPolicy)), config.passwordPolicy);
  if (!user || !valid) {
    await recordLoginFailure(db, key, config.loginThrottle, user && { userId: user.id, actorId: null, request, discardSessionId: sessionId });
    throw invalidCredentials();
  }
  // Checked only after the password, so an attacker cannot probe which accounts are deactivated.
  if (!user.isActive) throw forbidden('this account is inactive');
  if (needsRehash) work.passwordHashes++;
  const passwordHash = needsRehash ? await hashPassword(password, config.passwordPolicy) : undefined;
  if (passwordHash !== undefined || failures !== null) await afterLogin(db, key, user.id, passwordHash);
  // An active account that may try now always got its session in beginLogin.
  return issueTokens(config, user, sessionId!, start.refreshToken);
}

/** What a success leaves to write, in one statement: the address's failures cleared, an outdated hash replaced. */
async function afterLogin(db: Database, key: string, userId: string, passwordHash: string | undefined): Promise<void> {
  const cleared = db.$with('cleared').as(clearLoginFailures(db, key).returning({ key: loginThrottles.emailHash }));
  await db
    .with(cleared)
    .update(users)
    .set({ passwordHash: passwordHash ?? sql`${users.passwordHash}` })
    .where(and(eq(users.id, userId), sql`${passwordHash !== undefined}`));
}

/** PATCH /auth/me: the caller's own name, with its `user.update` event, in one statement. */
export async function updateMe(db: Database, caller: Caller, changes: { fullName: string | null }): Promise<UserRow> {
  const old = rowBefore(users, eq(users.id, sql.placeholder('callerId')), { id: users.id, oldFullName: sql`${users.fullName}`.as('old_full_name') });
  const updated = db.$with('updated').as(
    db
      .update(users)
      .set({ fullName: changes.fullName, updatedAt: sql`now()` })
      .from(old)
      .where(and(isCaller, eq(users.id, old.id), eq(users.isActive, true)))
      .returning({ ...userColumns, oldFullName: sql`${old.oldFullName}`.as('old_full_name') }),
  );
  const audit = db
    .$with('audit', {})
    .as(auditOf('user.update', 'user', sql`select id as entity_id, null::uuid as project_id, ${changesOf([['full_name', sql.identifier('old_full_name'), sql.identifier('full_name')]])} as changes from ${updated}`));
  const [user] = await db.with(updated, audit).select(regroup(userColumns, updated)).from(updated).prepare('update_me').execute(callerValues(caller));
  if (user) return user;
  return authorizeActor(await findCaller(db, caller));
}

/**
 * POST /auth/me/password: the current password proves it is the user (a wrong one counts as a failed login
 * and is refused with 403), then the new hash, a new token epoch and the revocation of every other session
 * go in one statement. Every access token issued before stops working, this session's included; this
 * session's refresh token stays valid, so the client refreshes to go on.
 */
export async function changePassword(
  db: Database,
  caller: Caller,
  sessionId: string,
  passwords: { current: string; next: string },
  config: AppConfig,
  work: RequestWork,
): Promise<void> {
  const user = authorizeActor(await findCaller(db, caller));
  const key = await throttleKey(user.email.toLowerCase());
  const retryAfter = await secondsToWait(db, key);
  if (retryAfter > 0) throw tooManyAttempts(retryAfter);
  work.passwordHashes++;
  if (!(await verifyPassword(passwords.current, user.passwordHash, config.passwordPolicy)).valid) {
    await recordLoginFailure(db, key, config.loginThrottle, { userId: user.id, actorId: user.id, request: caller.request });
    throw forbidden('the current password is wrong');
  }
  work.passwordHashes++;
  const passwordHash = await hashPassword(passwords.next, config.passwordPolicy);
  const changed = db.$with('changed').as(
    db
      .update(users)
      .set({ passwordHash, tokenEpoch: sql`${users.tokenEpoch} + 1`, updatedAt: sql`now()` })
      .where(and(isCaller, eq(users.isActive, true)))
      .returning({ id: users.id }),
  );
  const others = db.$with('others').as(revokeEverySession(db, user.id, sessionId));
  const cleared = db.$with('cleared').as(clearLoginFailures(db, key));
  // The event says that the password changed, never what to.
  const audit = db.$with('audit', {}).as(auditOf('user.password_change', 'user', sql`select id as entity_id, null::uuid as project_id, '{}'::jsonb as changes from ${changed}`));
  const [done] = await db.with(changed, others, cleared, audit).select({ id: changed.id }).from(changed).prepare('change_password').execute(callerValues(caller));
  // The caller changed meanwhile (deactivated, revoked): refuse as any request would.
  if (!done) authorizeActor(await findCaller(db, caller));
}
