import { eq, sql } from 'drizzle-orm';
import { prepared, type Database } from './client.ts';
import { users, type UserRow } from './schema.ts';

/**
 * The caller's columns that authorisation needs (see lib/actor.ts); the id is already the token's. Routes
 * select them beside their own data, `from users ... where isCaller`, so checking the caller costs no
 * statement of its own.
 */
export const actorColumns = { role: users.role, isActive: users.isActive };

/** The caller's users row, in statements executed with a `callerId` value. */
export const isCaller = eq(users.id, sql.placeholder('callerId'));

/**
 * The whole row of one user, for the routes that read the caller alone (see middleware/auth.ts). It lives
 * here, below the middleware, rather than in the users module the middleware must not import.
 */
export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  const statement = prepared(db, 'user_by_id', () => db.select().from(users).where(isCaller).prepare('user_by_id'));
  const [user] = await statement.execute({ callerId: id });
  return user;
}
