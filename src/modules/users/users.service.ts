import { eq, getTableColumns, sql } from 'drizzle-orm';
import { auditOf, changesOf, requestValues, type AuditField } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
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

/** What the trail records of a new account: never its password or hash. */
const USER_CREATED: AuditField[] = ['email', 'full_name', 'role'].map((field) => [field, null, sql.identifier(field)]);

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
  const created = db.$with('created').as(
    db
      .insert(users)
      .values({ email: input.email, passwordHash, fullName: input.fullName ?? null, role: input.role ?? 'user' })
      .returning(),
  );
  const audit = db
    .$with('audit', {})
    .as(
      auditOf(
        'user.signup',
        'user',
        sql`select id as entity_id, null::uuid as project_id, ${changesOf(USER_CREATED)} as changes from ${created}`,
        request ? sql`entity_id` : sql`null::uuid`,
      ),
    );
  try {
    const [user] = await db
      .with(created, audit)
      .select(regroup(getTableColumns(users), created))
      .from(created)
      .execute(requestValues(request));
    return user!;
  } catch (error) {
    // The unique index decides, so two simultaneous signups with one email cannot both succeed.
    if (postgresCode(error) === '23505') throw conflict('email_taken', 'an account with this email already exists');
    throw error;
  }
}

export async function replacePasswordHash(db: Database, userId: string, passwordHash: string): Promise<void> {
  await db.update(users).set({ passwordHash }).where(eq(users.id, userId));
}
