import { eq, getTableColumns, sql } from 'drizzle-orm';
import { auditOf, changesOf, requestValues, type RequestValues } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
import { slots, statementFamily } from '../../db/statements.ts';
import { accountTokens, invitations } from '../../db/account-schema.ts';
import { guard, GuardedWrite, oneRow } from '../../db/guards.ts';
import { issuedToken } from '../accounts/tokens.ts';
import { invitationPending } from '../invitations/invitations.guards.ts';
import type { Message } from '../mail/mail.messages.ts';
import { mailValues, outboxIdColumn, outboxIds, outboxOf, type MailValues } from '../mail/mail.outbox.ts';
import type { RequestMeta } from '../../lib/actor.ts';
import type { Database } from '../../db/client.ts';
import { users, type RoleName, type UserRow } from '../../db/schema.ts';
import { postgresCode } from '../../db/errors.ts';
import { AppError, conflict, forbidden } from '../../lib/problem.ts';
import { hashPassword, type PasswordPolicy } from '../../lib/password.ts';
import { requireStrongPassword } from '../../lib/password-strength.ts';

/** Users are shared by auth (signup, login, me), admin management and the command-line tool. */

export async function findUserByEmail(db: Database, normalisedEmail: string): Promise<UserRow | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, normalisedEmail))
    .limit(1);
  return user;
}

export interface NewUser {
  email: string;
  password: string;
  fullName?: string | null;
  role?: RoleName;
}

const userColumns = getTableColumns(users);

/**
 * How a new account's address is known to be its owner's: `mail` (a verification token is mailed, the
 * address stays unverified until it is used), `invitation` (the signup presents an invitation mailed to
 * that address, which proves it), or `operator` (made by the command-line tools, whose operator vouches).
 */
export type AddressProof =
  | { kind: 'mail'; tokenHash: string; seconds: number; message: Message }
  | { kind: 'invitation'; invitationHash: string }
  | { kind: 'operator' };

type CreateUserValues = RequestValues &
  MailValues<'mail'> & {
    email: string;
    passwordHash: string;
    fullName: string | null;
    role: RoleName;
    tokenHash: string;
    seconds: number;
    invitationHash: string;
  };

/** A signup from an invitation's link: the invitation must be pending and addressed to the new account's address. */
export const SIGNUP_INVITED = new GuardedWrite(
  guard(
    'invitation_usable',
    invitationPending,
    () => new AppError('invitation_invalid', 'the invitation is unknown, accepted, withdrawn or expired'),
  ),
  guard('addressed_here', sql`${invitations.email} = lower(${slots<{ email: string }>().email}::text)`, () =>
    forbidden('invitation_mismatch', 'the invitation was sent to another address; sign up with that one'),
  ),
);

/**
 * The account and its `user.signup` event (never its password or hash), and for a signup its address's
 * verification token and message, in one statement. Its actor is the new user or the system.
 */
const CREATE_USER = statementFamily(
  'create_user',
  { actor: ['self', 'system'], proof: ['mail', 'invitation', 'operator'] },
  slots<CreateUserValues>(),
  (db, shape, $) => {
    const facts = db.$with('facts').as(
      db
        .select(SIGNUP_INVITED.facts({ one: sql`1`.as('one') }))
        .from(oneRow)
        .leftJoin(invitations, eq(invitations.tokenHash, $.invitationHash)),
    );
    const created = db.$with('created').as(
      db
        .insert(users)
        .select(
          db
            .select({
              id: sql<string>`gen_random_uuid()`.as('id'),
              email: sql<string>`${$.email}::text`.as('email'),
              passwordHash: sql<string>`${$.passwordHash}::text`.as('password_hash'),
              fullName: sql<string | null>`${$.fullName}::text`.as('full_name'),
              isActive: sql<boolean>`true`.as('is_active'),
              role: sql<string>`${$.role}::text`.as('role'),
              tokenEpoch: sql<number>`0`.as('token_epoch'),
              emailVerifiedAt: (shape.proof === 'mail' ? sql<Date | null>`null::timestamptz` : sql<Date>`now()`).as(
                'email_verified_at',
              ),
              createdAt: sql<Date>`now()`.as('created_at'),
              updatedAt: sql<Date>`now()`.as('updated_at'),
            })
            .from(facts)
            .where(shape.proof === 'invitation' ? SIGNUP_INVITED.allHold(facts) : undefined),
        )
        .returning(),
    );
    const issued = db.$with('issued').as(
      db
        .insert(accountTokens)
        .select(
          db
            .select(
              issuedToken($, 'email_verify', {
                userId: created.id,
                email: created.email,
                tokenEpoch: created.tokenEpoch,
              }),
            )
            .from(created)
            .where(shape.proof === 'mail' ? undefined : sql`false`),
        )
        .returning({ email: accountTokens.email }),
    );
    const mail = db.$with('mail', outboxIdColumn).as(outboxOf($, 'mail', { from: issued, recipient: issued.email }));
    const audit = db.$with('audit', {}).as(
      auditOf($, 'user.signup', 'user', {
        from: created,
        entityId: created.id,
        projectId: null,
        changes: changesOf([
          ['email', null, created.email],
          ['full_name', null, created.fullName],
          ['role', null, created.role],
          ['email_verified_at', null, created.emailVerifiedAt],
        ]),
        actor: shape.actor === 'self' ? created.id : sql`null::uuid`,
      }),
    );
    return db
      .with(facts, created, issued, mail, audit)
      .select({ guards: SIGNUP_INVITED.results(facts), user: regroup(userColumns, created), mailIds: outboxIds(mail) })
      .from(facts)
      .leftJoin(created, sql`true`);
  },
);

const noMail = { kind: 'password_reset', subject: '', text: '', html: '' } satisfies Message;

/**
 * Creates the account and its `user.signup` event in one statement (with its verification message, for a
 * signup). `request` is the signup request (the new user is its actor), or null for the command-line tools
 * (the system).
 */
export async function createUser(
  db: Database,
  input: NewUser,
  policy: PasswordPolicy,
  request: RequestMeta | null,
  proof: AddressProof = { kind: 'operator' },
): Promise<UserRow & { mailIds: number[] }> {
  requireStrongPassword(input.password, input.email, 'body.password');
  const passwordHash = await hashPassword(input.password, policy);
  try {
    const row = await SIGNUP_INVITED.run(
      CREATE_USER.on(db, { actor: request ? 'self' : 'system', proof: proof.kind }).execute({
        ...requestValues(request),
        ...mailValues('mail', proof.kind === 'mail' ? proof.message : noMail),
        email: input.email,
        passwordHash,
        fullName: input.fullName ?? null,
        role: input.role ?? 'user',
        tokenHash: proof.kind === 'mail' ? proof.tokenHash : '',
        seconds: proof.kind === 'mail' ? proof.seconds : 0,
        invitationHash: proof.kind === 'invitation' ? proof.invitationHash : '',
      }),
    );
    if (proof.kind === 'invitation') SIGNUP_INVITED.outcome({ guards: row.guards, facts: {}, written: row.user });
    return { ...row.user, mailIds: row.mailIds };
  } catch (error) {
    // The unique index decides, so two simultaneous signups with one email cannot both succeed.
    if (postgresCode(error) === '23505') throw conflict('email_taken', 'an account with this email already exists');
    throw error;
  }
}
