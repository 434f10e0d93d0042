import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { auditOf, changesOf } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
import type { AppConfig } from '../../config.ts';
import type { Database } from '../../db/client.ts';
import { slots, statement } from '../../db/statements.ts';
import type { RequestWork } from '../../db/traffic.ts';
import { authThrottles, sessions, users, type UserRow } from '../../db/schema.ts';
import {
  callerAccountFacts,
  callerValues,
  isCaller,
  newPasswordSet,
  OWN_ACCOUNT,
  type CallerValues,
} from '../../db/users.ts';
import { authorizeActor, type Caller, type RequestMeta } from '../../lib/actor.ts';
import { hashPassword, verifyPassword } from '../../lib/password.ts';
import { requireStrongPassword } from '../../lib/password-strength.ts';
import { forbidden } from '../../lib/problem.ts';
import { newAccountToken, presentedTokenHash } from '../accounts/tokens.ts';
import { verificationMessage } from '../mail/mail.messages.ts';
import { createUser, type AddressProof } from '../users/users.service.ts';
import { revokeEverySession } from '../../db/sessions.ts';
import { recordFailure } from './login.ts';
import {
  countAttempt,
  passwordChangeKey,
  ruleSlots,
  secondsUntil,
  throttleValues,
  tooManyAttempts,
  type ThrottleValues,
} from './throttle.ts';

const userColumns = getTableColumns(users);

export interface SignupInput {
  email: string;
  password: string;
  fullName?: string | null;
  invitationToken?: string;
}

/**
 * Self-service signup always creates an ordinary user; only an admin or the CLI makes admins. The address is
 * proven by the invitation the signup presents, or else by a mailed verification token.
 */
export async function signUp(
  db: Database,
  input: SignupInput,
  request: RequestMeta,
  config: AppConfig,
  work: RequestWork,
): Promise<UserRow & { mailIds: number[] }> {
  requireStrongPassword(input.password, input.email, 'body.password');
  work.passwordHashes++;
  const { token, tokenHash } = await newAccountToken();
  const proof: AddressProof = input.invitationToken
    ? { kind: 'invitation', invitationHash: await presentedTokenHash(input.invitationToken) }
    : {
        kind: 'mail',
        tokenHash,
        seconds: config.accounts.emailVerificationSeconds,
        message: verificationMessage(config.mail, token, config.accounts.emailVerificationSeconds / 3600),
      };
  return createUser(db, { ...input, role: 'user' }, config.passwordPolicy, request, proof);
}

const UPDATE_ME = statement('update_me', slots<CallerValues & { fullName: string | null }>(), (db, $) => {
  const facts = callerAccountFacts(db, $, OWN_ACCOUNT, {
    oldFullName: sql<string | null>`${users.fullName}`.as('old_full_name'),
  });
  const updated = db.$with('updated').as(
    db
      .update(users)
      .set({ fullName: sql`${$.fullName}::text`, updatedAt: sql`now()` })
      .from(facts)
      .where(and(eq(users.id, facts.callerId), OWN_ACCOUNT.allHold(facts)))
      .returning({ ...userColumns, oldFullName: facts.oldFullName }),
  );
  const audit = db.$with('audit', {}).as(
    auditOf($, 'user.update', 'user', {
      from: updated,
      entityId: updated.id,
      projectId: null,
      changes: changesOf([['full_name', updated.oldFullName, updated.fullName]]),
    }),
  );
  return db
    .with(facts, updated, audit)
    .select({ guards: OWN_ACCOUNT.results(facts), user: regroup(userColumns, updated) })
    .from(facts)
    .leftJoin(updated, sql`true`);
});

/** PATCH /auth/me: the caller's own name, with its `user.update` event, in one guarded statement. */
export async function updateMe(db: Database, caller: Caller, changes: { fullName: string | null }): Promise<UserRow> {
  const row = await OWN_ACCOUNT.run(UPDATE_ME.on(db).execute({ ...callerValues(caller), fullName: changes.fullName }));
  return OWN_ACCOUNT.outcome({ guards: row.guards, facts: {}, written: row.user });
}

/**
 * The caller's current password, checked before a change that needs it (POST /auth/me/password, POST
 * /auth/me/email). First the caller is read and the attempt counted against the user's own
 * password-change key (throttle.ts), in one statement, before the password is checked; a blocked key is a
 * 429 before any hashing. A wrong password is a 403 and an `auth.login_failed` event; its attempt stays
 * counted. Returns the caller's row and the key, which a password change clears.
 */
export async function verifyCurrentPassword(
  db: Database,
  caller: Caller,
  currentPassword: string,
  config: AppConfig,
  work: RequestWork,
): Promise<{ user: UserRow; throttleKey: string }> {
  const throttleKey = await passwordChangeKey(caller.id);
  const { user, admitted, wait } = await BEGIN_PASSWORD_CHANGE.on(db)
    .execute({ ...callerValues(caller), ...throttleValues(config.loginThrottle), throttleKey })
    .then(([row]) => ({
      user: authorizeActor(row?.user),
      admitted: row!.admitted,
      wait: row!.wait,
    }));
  if (!admitted) throw tooManyAttempts(wait || config.loginThrottle.backoffSeconds);
  work.passwordHashes++;
  if (!(await verifyPassword(currentPassword, user.passwordHash, config.passwordPolicy)).valid) {
    await recordFailure(db, { userId: user.id, actorId: user.id, request: caller.request });
    throw forbidden('current_password_wrong', 'the current password is wrong');
  }
  return { user, throttleKey };
}

/**
 * POST /auth/me/password: the current password (`verifyCurrentPassword`), then the new hash, a new token
 * epoch (carried on by this session), the revocation of every other session and the key's reset in one
 * statement. Every access token issued before stops working, this session's included; this session's
 * refresh token stays valid, so the client refreshes to go on.
 */
export async function changePassword(
  db: Database,
  caller: Caller,
  sessionId: string,
  passwords: { current: string; next: string },
  config: AppConfig,
  work: RequestWork,
): Promise<void> {
  const { user, throttleKey } = await verifyCurrentPassword(db, caller, passwords.current, config, work);
  requireStrongPassword(passwords.next, user.email, 'body.new_password');
  work.passwordHashes++;
  const passwordHash = await hashPassword(passwords.next, config.passwordPolicy);
  const row = await OWN_ACCOUNT.run(
    CHANGE_PASSWORD.on(db).execute({ ...callerValues(caller), passwordHash, sessionId, throttleKey }),
  );
  // The caller changed since the first statement (deactivated, revoked): refused as any request would be.
  OWN_ACCOUNT.outcome({ guards: row.guards, facts: {}, written: row.changed });
}

/**
 * The caller's row, and one attempt counted against their password-change key (by the network key's rule),
 * while the caller is valid.
 */
const BEGIN_PASSWORD_CHANGE = statement(
  'begin_password_change',
  slots<CallerValues & ThrottleValues & { throttleKey: string }>(),
  (db, $) => {
    const key = sql`${$.throttleKey}::text`;
    const activeCaller = sql`exists (select 1 from ${users} where ${isCaller($)} and ${users.isActive})`;
    const admitted = db.$with('admitted', {}).as(countAttempt(key, ruleSlots($, 'network'), { when: activeCaller }));
    const wait = db
      .select({ wait: secondsUntil(authThrottles.blockedUntil) })
      .from(authThrottles)
      .where(eq(authThrottles.keyHash, key));
    return db
      .with(admitted)
      .select({
        user: userColumns,
        admitted: sql<boolean>`exists (select 1 from ${admitted})`,
        wait: sql<number>`coalesce((${wait}), 0)`,
      })
      .from(users)
      .where(isCaller($));
  },
);

/**
 * The new hash, a new epoch for the caller, every other session revoked, this one carried on under the new
 * epoch and the password-change key cleared, with the event, in one statement.
 */
const CHANGE_PASSWORD = statement(
  'change_password',
  slots<CallerValues & { passwordHash: string; sessionId: string; throttleKey: string }>(),
  (db, $) => {
    const facts = callerAccountFacts(db, $, OWN_ACCOUNT, {});
    const changed = db.$with('changed').as(
      db
        .update(users)
        .set(newPasswordSet($))
        .from(facts)
        .where(and(eq(users.id, facts.callerId), OWN_ACCOUNT.allHold(facts)))
        .returning({ id: users.id, tokenEpoch: users.tokenEpoch }),
    );
    const others = db
      .$with('others')
      .as(revokeEverySession(db, sql`(select ${changed.id} from ${changed})`, sql`${$.sessionId}::uuid`));
    // This session lives on under the new epoch; any other, even one a racing login began, cannot refresh.
    const kept = db.$with('kept').as(
      db
        .update(sessions)
        .set({ tokenEpoch: sql`(select ${changed.tokenEpoch} from ${changed})` })
        .where(and(eq(sessions.id, $.sessionId), sql`exists (select 1 from ${changed})`)),
    );
    const cleared = db
      .$with('cleared')
      .as(
        db
          .delete(authThrottles)
          .where(and(eq(authThrottles.keyHash, $.throttleKey), sql`exists (select 1 from ${changed})`)),
      );
    // The event says that the password changed, never what to.
    const audit = db.$with('audit', {}).as(
      auditOf($, 'user.password_change', 'user', {
        from: changed,
        entityId: changed.id,
        projectId: null,
        changes: sql`'{}'::jsonb`,
      }),
    );
    return db
      .with(facts, changed, others, kept, cleared, audit)
      .select({ guards: OWN_ACCOUNT.results(facts), changed: { id: changed.id } })
      .from(facts)
      .leftJoin(changed, sql`true`);
  },
);
