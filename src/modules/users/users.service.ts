import { eq, getTableColumns, sql } from 'drizzle-orm';
import { auditOf, changesOf, requestValues, type RequestValues } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
import { slots, statementFamily } from '../../db/statements.ts';
import type { RequestMeta } from '../../lib/actor.ts';
import type { Database } from '../../db/client.ts';
import { users, type RoleName, type UserRow } from '../../db/schema.ts';
import { postgresCode } from '../../db/errors.ts';
import { conflict } from '../../lib/problem.ts';
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

/** The account and its `user.signup` event (never its password or hash); its actor is the new user or the system. */
const CREATE_USER = statementFamily(
  'create_user',
  { actor: ['self', 'system'] },
  slots<RequestValues & { email: string; passwordHash: string; fullName: string | null; role: RoleName }>(),
  (db, shape, $) => {
    const created = db.$with('created').as(
      db
        .insert(users)
        .values({
          email: sql`${$.email}::text`,
          passwordHash: sql`${$.passwordHash}::text`,
          fullName: sql`${$.fullName}::text`,
          role: sql`${$.role}::text`,
        })
        .returning(),
    );
    const audit = db.$with('audit', {}).as(
      auditOf($, 'user.signup', 'user', {
        from: created,
        entityId: created.id,
        projectId: null,
        changes: changesOf([
          ['email', null, created.email],
          ['full_name', null, created.fullName],
          ['role', null, created.role],
        ]),
        actor: shape.actor === 'self' ? created.id : sql`null::uuid`,
      }),
    );
    return db.with(created, audit).select(regroup(userColumns, created)).from(created);
  },
);

/**
 * Creates the account and its `user.signup` event in one statement. `request` is the signup request (the
 * new user is its actor), or null for the command-line tools (the system).
 */
export async function createUser(
  db: Database,
  input: NewUser,
  policy: PasswordPolicy,
  request: RequestMeta | null,
): Promise<UserRow> {
  requireStrongPassword(input.password, input.email, 'body.password');
  const passwordHash = await hashPassword(input.password, policy);
  try {
    const [user] = await CREATE_USER.on(db, { actor: request ? 'self' : 'system' }).execute({
      ...requestValues(request),
      email: input.email,
      passwordHash,
      fullName: input.fullName ?? null,
      role: input.role ?? 'user',
    });
    return user!;
  } catch (error) {
    // The unique index decides, so two simultaneous signups with one email cannot both succeed.
    if (postgresCode(error) === '23505') throw conflict('email_taken', 'an account with this email already exists');
    throw error;
  }
}
