import { and, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { AppConfig } from '../../config.ts';
import { accountTokens, type AccountTokenKind } from '../../db/account-schema.ts';
import { auditOf, changesOf, requestValues, type RequestValues } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { lockedRow, oneRow } from '../../db/guards.ts';
import { regroup } from '../../db/pagination.ts';
import { authThrottles, users, type UserRow } from '../../db/schema.ts';
import { revokeEverySession } from '../../db/sessions.ts';
import { slots, statement, type Slots } from '../../db/statements.ts';
import type { RequestWork } from '../../db/traffic.ts';
import { callerAccountFacts, callerValues, newPasswordSet, type CallerValues } from '../../db/users.ts';
import type { Caller, RequestMeta } from '../../lib/actor.ts';
import { hashPassword } from '../../lib/password.ts';
import { requireStrongPassword } from '../../lib/password-strength.ts';
import { sha256Hex } from '../../lib/secrets.ts';
import { verifyCurrentPassword } from '../auth/auth.service.ts';
import { countAttempt } from '../auth/throttle.ts';
import {
  emailChangedMessage,
  emailChangeMessage,
  emailChangeNotice,
  passwordChangedMessage,
  passwordResetMessage,
  verificationMessage,
} from '../mail/mail.messages.ts';
import { mailValues, outboxIdColumn as ids, outboxIds, outboxOf, type MailValues } from '../mail/mail.outbox.ts';
import { CHANGE_EMAIL, RESEND, RESET, VERIFY, verificationRetryAfter } from './accounts.guards.ts';
import { issuedToken, liveTokensOf, newAccountToken, presentedTokenHash } from './tokens.ts';

/*
 * Accounts people can recover (OWASP ASVS v4 2.5): a password reset by mail, the verification of an
 * address, and the change of one. Each token is 256 random bits, mailed and stored only as its digest,
 * single-use, short-lived, and of one kind. Every step is one statement that writes its change, its audit
 * event and its message (mail/mail.outbox.ts) together; the message goes out after the response.
 */

const userColumns = getTableColumns(users);

/** What the flows that mail something return: the outbox rows to send once the response has gone. */
export interface Mailed {
  mailIds: number[];
}

/** At most this many reset messages per address before its key backs off (15 minutes, doubling to an hour). */
const RESET_REQUESTS = { limit: sql.raw('3'), backoffSeconds: sql.raw('900') };
const resetRequestKey = (email: string) => sha256Hex(`password-forgot:${email}`);

/**
 * POST /auth/password/forgot. The same statement runs whatever the address: the request is counted against
 * the address's key (race-safe, as login's are) and, for an active account whose key admits it, a token and
 * its message are written. So the answer, its timing and the database work say nothing about who has an
 * account; the message goes out after the response.
 */
const REQUEST_RESET = statement(
  'request_password_reset',
  slots<
    RequestValues & MailValues<'mail'> & { email: string; throttleKey: string; tokenHash: string; seconds: number }
  >(),
  (db, $) => {
    const admitted = db.$with('admitted', {}).as(countAttempt(sql`${$.throttleKey}::text`, RESET_REQUESTS));
    const account = db.$with('account').as(
      db
        .select({ userId: users.id, email: users.email, tokenEpoch: users.tokenEpoch })
        .from(users)
        .where(
          and(
            eq(sql`lower(${users.email})`, $.email),
            eq(users.isActive, true),
            sql`exists (select 1 from ${admitted})`,
          ),
        ),
    );
    const issued = db.$with('issued').as(
      db
        .insert(accountTokens)
        .select(db.select(issuedToken($, 'password_reset', account)).from(account))
        .returning({ userId: accountTokens.userId, email: accountTokens.email }),
    );
    const mail = db.$with('mail', ids).as(outboxOf($, 'mail', { from: issued, recipient: issued.email }));
    const audit = db.$with('audit', {}).as(
      auditOf($, 'user.password_reset_request', 'user', {
        from: issued,
        entityId: issued.userId,
        projectId: null,
        changes: sql`'{}'::jsonb`,
        actor: sql`null::uuid`,
      }),
    );
    return db
      .with(admitted, account, issued, mail, audit)
      .select({ mailIds: outboxIds(mail) })
      .from(oneRow);
  },
);

export async function requestPasswordReset(
  db: Database,
  email: string,
  request: RequestMeta,
  config: AppConfig,
): Promise<Mailed> {
  const { token, tokenHash } = await newAccountToken();
  const minutes = config.accounts.passwordResetSeconds / 60;
  const [row] = await REQUEST_RESET.on(db).execute({
    ...requestValues(request),
    ...mailValues('mail', passwordResetMessage(config.mail, token, minutes)),
    email,
    throttleKey: await resetRequestKey(email),
    tokenHash,
    seconds: config.accounts.passwordResetSeconds,
  });
  return { mailIds: row!.mailIds };
}

/** The token a request presents (locked) and its user, with the guards of `write` judged over them. */
const presentedTokenFacts = (
  db: Database,
  $: Slots<{ tokenHash: string }>,
  write: typeof RESET | typeof VERIFY,
  kinds: AccountTokenKind[],
) =>
  db.$with('facts').as(
    db
      .select(
        write.facts({
          tokenId: sql<string | null>`${accountTokens.id}`.as('token_id'),
          tokenKind: sql<string | null>`${accountTokens.kind}`.as('token_kind'),
          tokenEmail: sql<string | null>`${accountTokens.email}`.as('token_email'),
          userId: sql<string | null>`${users.id}`.as('user_id'),
          oldEmail: sql<string | null>`${users.email}`.as('old_email'),
        }),
      )
      .from(oneRow)
      .leftJoinLateral(
        lockedRow(accountTokens, and(eq(accountTokens.tokenHash, $.tokenHash), inArray(accountTokens.kind, kinds))!),
        sql`true`,
      )
      .leftJoinLateral(lockedRow(users, eq(users.id, accountTokens.userId)), sql`true`),
  );

/** Step one of a reset: is the token usable, and whose address must the new password not contain? */
const RESET_TOKEN = statement('reset_token', slots<{ tokenHash: string }>(), (db, $) => {
  const facts = presentedTokenFacts(db, $, RESET, ['password_reset']);
  return db
    .with(facts)
    .select({ guards: RESET.results(facts), email: facts.oldEmail })
    .from(facts);
});

/**
 * Step two: the new password, a new epoch (every access token ends), every session revoked, the token and
 * every other reset token spent (the epoch ends them too), the account-wide login backoff cleared (the
 * holder proved they read the mail), a notice mailed and the event, in one statement. Two requests with
 * one token take turns on its row: only the first finds it unused.
 */
const RESET_PASSWORD = statement(
  'reset_password',
  slots<RequestValues & MailValues<'notice'> & { tokenHash: string; passwordHash: string }>(),
  (db, $) => {
    const facts = presentedTokenFacts(db, $, RESET, ['password_reset']);
    const changed = db.$with('changed').as(
      db
        .update(users)
        .set(newPasswordSet($))
        .from(facts)
        .where(and(eq(users.id, facts.userId), RESET.allHold(facts)))
        .returning({ id: users.id, email: users.email }),
    );
    const spent = db.$with('spent').as(
      db
        .update(accountTokens)
        .set({ usedAt: sql`now()` })
        .where(
          and(
            liveTokensOf(sql`(select ${changed.id} from ${changed})`, ['password_reset']),
            sql`exists (select 1 from ${changed})`,
          ),
        ),
    );
    const revoked = db.$with('revoked').as(revokeEverySession(db, sql`(select ${changed.id} from ${changed})`));
    const unblocked = db
      .$with('unblocked')
      .as(
        db
          .delete(authThrottles)
          .where(
            eq(
              authThrottles.keyHash,
              sql`(select encode(sha256(convert_to('login:' || lower(${changed.email}), 'UTF8')), 'hex') from ${changed})`,
            ),
          ),
      );
    const notice = db.$with('notice', ids).as(outboxOf($, 'notice', { from: changed, recipient: changed.email }));
    const audit = db.$with('audit', {}).as(
      auditOf($, 'user.password_reset', 'user', {
        from: changed,
        entityId: changed.id,
        projectId: null,
        changes: sql`'{}'::jsonb`,
        actor: changed.id,
      }),
    );
    return db
      .with(facts, changed, spent, revoked, unblocked, notice, audit)
      .select({ guards: RESET.results(facts), changed: { id: changed.id }, mailIds: outboxIds(notice) })
      .from(facts)
      .leftJoin(changed, sql`true`);
  },
);

/** POST /auth/password/reset. The new password meets the policy, with the account's address in view. */
export async function resetPassword(
  db: Database,
  input: { token: string; newPassword: string },
  request: RequestMeta,
  config: AppConfig,
  work: RequestWork,
): Promise<Mailed> {
  const tokenHash = await presentedTokenHash(input.token);
  const [found] = await RESET_TOKEN.on(db).execute({ tokenHash });
  RESET.outcome({ guards: found!.guards, facts: {}, written: {} });
  requireStrongPassword(input.newPassword, found!.email!, 'body.new_password');
  work.passwordHashes++;
  const passwordHash = await hashPassword(input.newPassword, config.passwordPolicy);
  const row = await RESET.run(
    RESET_PASSWORD.on(db).execute({
      ...requestValues(request),
      ...mailValues('notice', passwordChangedMessage(config.mail)),
      tokenHash,
      passwordHash,
    }),
  );
  RESET.outcome({ guards: row.guards, facts: {}, written: row.changed });
  return { mailIds: row.mailIds };
}

/**
 * POST /auth/email/verify: a signup's token marks the address verified; an email change's moves the account
 * to the new, now verified, address and tells the old one. Either spends every live verification and change
 * token of the account.
 */
const VERIFY_EMAIL = statement(
  'verify_email',
  slots<RequestValues & MailValues<'notice'> & { tokenHash: string }>(),
  (db, $) => {
    const facts = presentedTokenFacts(db, $, VERIFY, ['email_verify', 'email_change']);
    const verified = db.$with('verified').as(
      db
        .update(users)
        .set({
          email: sql`case when ${facts.tokenKind} = 'email_change' then ${facts.tokenEmail} else ${users.email} end`,
          emailVerifiedAt: sql`now()`,
          updatedAt: sql`now()`,
        })
        .from(facts)
        .where(and(eq(users.id, facts.userId), VERIFY.allHold(facts)))
        .returning({ ...userColumns, oldEmail: facts.oldEmail, kind: facts.tokenKind }),
    );
    const spent = db.$with('spent').as(
      db
        .update(accountTokens)
        .set({ usedAt: sql`now()` })
        .where(liveTokensOf(sql`(select ${verified.id} from ${verified})`, ['email_verify', 'email_change'])),
    );
    const moved = db.$with('moved').as(
      db
        .select({ email: verified.email, oldEmail: verified.oldEmail, id: verified.id })
        .from(verified)
        .where(sql`${verified.kind} = 'email_change'`),
    );
    const notice = db
      .$with('notice', ids)
      .as(outboxOf($, 'notice', { from: moved, recipient: moved.oldEmail, fill: { new_email: moved.email } }));
    const verifyEvent = db.$with('verify_event', {}).as(
      auditOf($, 'user.email_verify', 'user', {
        from: sql`${verified} where ${verified.kind} = 'email_verify'`,
        entityId: verified.id,
        projectId: null,
        changes: changesOf([['email_verified_at', null, verified.emailVerifiedAt]]),
        actor: verified.id,
      }),
    );
    const changeEvent = db.$with('change_event', {}).as(
      auditOf($, 'user.email_change', 'user', {
        from: moved,
        entityId: moved.id,
        projectId: null,
        changes: changesOf([['email', moved.oldEmail, moved.email]]),
        actor: moved.id,
      }),
    );
    return db
      .with(facts, verified, spent, moved, notice, verifyEvent, changeEvent)
      .select({ guards: VERIFY.results(facts), user: regroup(userColumns, verified), mailIds: outboxIds(notice) })
      .from(facts)
      .leftJoin(verified, sql`true`);
  },
);

export async function verifyEmail(
  db: Database,
  token: string,
  request: RequestMeta,
  config: AppConfig,
): Promise<Mailed & { user: UserRow }> {
  const row = await VERIFY.run(
    VERIFY_EMAIL.on(db).execute({
      ...requestValues(request),
      ...mailValues('notice', emailChangedMessage(config.mail)),
      tokenHash: await presentedTokenHash(token),
    }),
  );
  const user = VERIFY.outcome({ guards: row.guards, facts: {}, written: row.user });
  return { user, mailIds: row.mailIds };
}

/** The verification token and message of a signed-in caller's unverified address (resend). */
const RESEND_VERIFICATION = statement(
  'resend_verification',
  slots<CallerValues & MailValues<'mail'> & { tokenHash: string; seconds: number }>(),
  (db, $) => {
    const facts = callerAccountFacts(db, $, RESEND, {
      email: sql<string>`${users.email}`.as('email'),
      tokenEpoch: sql<number>`${users.tokenEpoch}`.as('token_epoch'),
      retryAfter: verificationRetryAfter,
    });
    const issued = db.$with('issued').as(
      db
        .insert(accountTokens)
        .select(
          db
            .select(
              issuedToken($, 'email_verify', {
                userId: facts.callerId,
                email: facts.email,
                tokenEpoch: facts.tokenEpoch,
              }),
            )
            .from(facts)
            .where(RESEND.allHold(facts)),
        )
        .returning({ userId: accountTokens.userId, email: accountTokens.email }),
    );
    const mail = db.$with('mail', ids).as(outboxOf($, 'mail', { from: issued, recipient: issued.email }));
    const audit = db.$with('audit', {}).as(
      auditOf($, 'user.email_verify_request', 'user', {
        from: issued,
        entityId: issued.userId,
        projectId: null,
        changes: sql`'{}'::jsonb`,
      }),
    );
    return db
      .with(facts, issued, mail, audit)
      .select({
        guards: RESEND.results(facts),
        facts: { retryAfter: facts.retryAfter },
        issued: { userId: issued.userId },
        mailIds: outboxIds(mail),
      })
      .from(facts)
      .leftJoin(issued, sql`true`);
  },
);

export async function resendVerification(db: Database, caller: Caller, config: AppConfig): Promise<Mailed> {
  const { token, tokenHash } = await newAccountToken();
  const hours = config.accounts.emailVerificationSeconds / 3600;
  const row = await RESEND.run(
    RESEND_VERIFICATION.on(db).execute({
      ...callerValues(caller),
      ...mailValues('mail', verificationMessage(config.mail, token, hours)),
      tokenHash,
      seconds: config.accounts.emailVerificationSeconds,
    }),
  );
  RESEND.outcome({ guards: row.guards, facts: row.facts, written: row.issued });
  return { mailIds: row.mailIds };
}

/**
 * The change's token, mailed to the new address, and a notice to the old one, with the event, in one
 * statement. Whether another account uses the new address is not looked at: that answer would tell who
 * has an account; the verification refuses it instead (409 email_taken).
 */
const REQUEST_EMAIL_CHANGE = statement(
  'request_email_change',
  slots<
    CallerValues & MailValues<'mail'> & MailValues<'notice'> & { newEmail: string; tokenHash: string; seconds: number }
  >(),
  (db, $) => {
    const facts = callerAccountFacts(db, $, CHANGE_EMAIL, {
      oldEmail: sql<string>`${users.email}`.as('old_email'),
      tokenEpoch: sql<number>`${users.tokenEpoch}`.as('token_epoch'),
    });
    const issued = db.$with('issued').as(
      db
        .insert(accountTokens)
        .select(
          db
            .select(
              issuedToken($, 'email_change', {
                userId: facts.callerId,
                email: sql`${$.newEmail}::text`,
                tokenEpoch: facts.tokenEpoch,
              }),
            )
            .from(facts)
            .where(CHANGE_EMAIL.allHold(facts)),
        )
        .returning({ userId: accountTokens.userId, email: accountTokens.email }),
    );
    const asked = db
      .$with('asked')
      .as(
        db
          .select({ userId: issued.userId, newEmail: issued.email, oldEmail: facts.oldEmail })
          .from(issued)
          .crossJoin(facts),
      );
    const mail = db.$with('mail', ids).as(outboxOf($, 'mail', { from: asked, recipient: asked.newEmail }));
    const notice = db.$with('notice', ids).as(outboxOf($, 'notice', { from: asked, recipient: asked.oldEmail }));
    const audit = db.$with('audit', {}).as(
      auditOf($, 'user.email_change_request', 'user', {
        from: asked,
        entityId: asked.userId,
        projectId: null,
        changes: changesOf([['new_email', null, asked.newEmail]]),
      }),
    );
    return db
      .with(facts, issued, asked, mail, notice, audit)
      .select({
        guards: CHANGE_EMAIL.results(facts),
        issued: { userId: issued.userId },
        mailIds: outboxIds(mail, notice),
      })
      .from(facts)
      .leftJoin(issued, sql`true`);
  },
);

/** POST /auth/me/email: the current password first (counted and limited as a password change is). */
export async function requestEmailChange(
  db: Database,
  caller: Caller,
  input: { newEmail: string; currentPassword: string },
  config: AppConfig,
  work: RequestWork,
): Promise<Mailed> {
  await verifyCurrentPassword(db, caller, input.currentPassword, config, work);
  const { token, tokenHash } = await newAccountToken();
  const hours = config.accounts.emailVerificationSeconds / 3600;
  const row = await CHANGE_EMAIL.run(
    REQUEST_EMAIL_CHANGE.on(db).execute({
      ...callerValues(caller),
      ...mailValues('mail', emailChangeMessage(config.mail, token, hours)),
      ...mailValues('notice', emailChangeNotice(config.mail, input.newEmail)),
      newEmail: input.newEmail,
      tokenHash,
      seconds: config.accounts.emailVerificationSeconds,
    }),
  );
  CHANGE_EMAIL.outcome({ guards: row.guards, facts: {}, written: row.issued });
  return { mailIds: row.mailIds };
}
