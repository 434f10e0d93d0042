import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { auditOf, changesOf, rowBefore } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
import type { AppConfig } from '../../config.ts';
import type { Database } from '../../db/client.ts';
import type { RequestWork } from '../../db/traffic.ts';
import { loginThrottles, users, type UserRow } from '../../db/schema.ts';
import { callerValues, findCaller, isCaller } from '../../db/users.ts';
import { authorizeActor, type Caller, type RequestMeta } from '../../lib/actor.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../lib/password.ts';
import { AppError, forbidden } from '../../lib/problem.ts';
import { createUser } from '../users/users.service.ts';
import { issueTokens, revokeEverySession, sessionCtes, sessionStart, type IssuedTokens } from '../sessions/sessions.service.ts';
import { clearLoginFailures, recordLoginFailure, retryAfterSeconds, throttleKey, tooManyAttempts } from './login-throttle.ts';

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

/** The account with this email, if any, and how long the address must still wait, in one statement. */
async function loginCandidate(db: Database, email: string, key: string) {
  const [row] = await db
    .select({ user: users, retryAfter: retryAfterSeconds })
    .from(sql`(select 1) as attempt`)
    .leftJoin(users, eq(sql`lower(${users.email})`, email))
    .leftJoin(loginThrottles, eq(loginThrottles.emailHash, key));
  return { user: row?.user ?? undefined, retryAfter: row?.retryAfter ?? 0 };
}

/**
 * Logs in and starts a session. A blocked address is refused before any hashing (429); an unknown email
 * spends the same hashing time as a wrong password and counts the same failure, so neither the status, the
 * timing nor the backoff says whether an account exists. Success clears the failures, starts the session
 * and (when the stored hash is outdated) replaces the hash, in one statement.
 */
export async function logIn(db: Database, email: string, password: string, request: RequestMeta, config: AppConfig, work: RequestWork): Promise<IssuedTokens> {
  const key = await throttleKey(email);
  const { user, retryAfter } = await loginCandidate(db, email, key);
  if (retryAfter > 0) throw tooManyAttempts(retryAfter);
  work.passwordHashes++;
  const { valid, needsRehash } = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash(config.passwordPolicy)), config.passwordPolicy);
  if (!user || !valid) {
    await recordLoginFailure(db, key, config.loginThrottle, user && { userId: user.id, actorId: null, request });
    throw invalidCredentials();
  }
  // Checked only after the password, so an attacker cannot probe which accounts are deactivated.
  if (!user.isActive) throw forbidden('this account is inactive');
  if (needsRehash) work.passwordHashes++;
  const passwordHash = needsRehash ? await hashPassword(password, config.passwordPolicy) : undefined;
  const start = await sessionStart(config, user.id, request);
  const [session, token] = sessionCtes(db);
  const cleared = db.$with('cleared').as(clearLoginFailures(db, key).returning({ key: loginThrottles.emailHash }));
  const rehashed = db.$with('rehashed').as(
    db
      .update(users)
      .set({ passwordHash: passwordHash ?? sql`${users.passwordHash}` })
      .where(and(eq(users.id, user.id), sql`${passwordHash !== undefined}`))
      .returning({ id: users.id }),
  );
  const statement = db.with(session, token, cleared, rehashed).select({ id: session.id }).from(session).prepare(`log_in`);
  await statement.execute(start.values);
  return issueTokens(config, user, start.values.sessionId, start.refreshToken);
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

const userColumns = getTableColumns(users);

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
  const { retryAfter } = await loginCandidate(db, user.email.toLowerCase(), key);
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
