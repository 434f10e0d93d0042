import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { users, type RoleName, type UserRow } from '../../db/schema.ts';
import { postgresCode } from '../../db/errors.ts';
import { conflict } from '../../lib/problem.ts';
import { hashPassword, type PasswordPolicy } from '../../lib/password.ts';

/** Users are shared by auth (signup, login, me), admin management and the command-line tool. */

export async function findUserByEmail(db: Database, normalisedEmail: string): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(eq(sql`lower(${users.email})`, normalisedEmail)).limit(1);
  return user;
}

export interface NewUser {
  email: string;
  password: string;
  fullName?: string | null;
  role?: RoleName;
}

export async function createUser(db: Database, input: NewUser, policy: PasswordPolicy): Promise<UserRow> {
  const passwordHash = await hashPassword(input.password, policy);
  try {
    const [user] = await db
      .insert(users)
      .values({ email: input.email, passwordHash, fullName: input.fullName ?? null, role: input.role ?? 'user' })
      .returning();
    return user!;
  } catch (error) {
    // The unique index decides, so two simultaneous signups with one email cannot both succeed.
    if (postgresCode(error) === '23505') throw conflict('an account with this email already exists');
    throw error;
  }
}

export async function replacePasswordHash(db: Database, userId: string, passwordHash: string): Promise<void> {
  await db.update(users).set({ passwordHash }).where(eq(users.id, userId));
}
