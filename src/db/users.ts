import { eq } from 'drizzle-orm';
import type { Database } from './client.ts';
import { uuidLiteral } from './literals.ts';
import { users, type UserRow } from './schema.ts';

/**
 * The user behind a token, read on every authenticated request by the auth middleware. It lives here,
 * below the middleware, rather than in the users module the middleware must not import.
 * The id is a literal and there is no LIMIT (the id is the primary key): no bind parameters, so one
 * round trip (see db/literals.ts).
 */
export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, uuidLiteral(id)));
  return user;
}
