import { eq } from 'drizzle-orm';
import type { Database } from './client.ts';
import { uuidLiteral } from './literals.ts';
import { users, type UserRow } from './schema.ts';

/**
 * The caller's columns that authorisation needs (see lib/actor.ts); the id is already the token's. Routes
 * select them beside their own data, `from users ... where isUser(callerId)`, so checking the caller
 * costs no statement of its own.
 */
export const actorColumns = { role: users.role, isActive: users.isActive };

/** The users row with this id. The id is a literal and there is no LIMIT (it is the key): no bind parameters. */
export const isUser = (id: string) => eq(users.id, uuidLiteral(id));

/**
 * The whole row of one user, for the routes that read the caller alone (see middleware/auth.ts). It lives
 * here, below the middleware, rather than in the users module the middleware must not import.
 */
export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(isUser(id));
  return user;
}
