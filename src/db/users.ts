import { and, eq, lte, sql } from 'drizzle-orm';
import type { Caller } from '../lib/actor.ts';
import { requestValues } from './audit.ts';
import { prepared, type Database } from './client.ts';
import { users, type UserRow } from './schema.ts';

/**
 * The caller's columns that authorisation needs (see lib/actor.ts); the id is already the token's. Routes
 * select them beside their own data, `from users ... where isCaller`, so checking the caller costs no
 * statement of its own.
 */
export const actorColumns = { role: users.role, isActive: users.isActive };

/**
 * The caller's users row, in statements executed with `callerValues`: only while the token's epoch is still
 * the user's, so a revoked token finds no caller (401).
 */
export const isCaller = and(
  eq(users.id, sql.placeholder('callerId')),
  lte(users.tokenEpoch, sql.placeholder('tokenEpoch')),
);

/** The placeholder values that name the caller in a statement, and the request for the audit trail (db/audit.ts). */
export const callerValues = (caller: Caller) => ({
  ...requestValues(caller.request, caller.id),
  tokenEpoch: caller.tokenEpoch,
});

/**
 * The caller's whole row, for the routes that read the caller alone (see middleware/auth.ts); none when the
 * token was revoked. It lives here, below the middleware, rather than in the users module the middleware
 * must not import.
 */
export async function findCaller(db: Database, caller: Caller): Promise<UserRow | undefined> {
  const statement = prepared(db, 'caller', () => db.select().from(users).where(isCaller));
  const [user] = await statement.execute(callerValues(caller));
  return user;
}

/** Any user's row by id (the admin routes). */
export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  const statement = prepared(db, 'user_by_id', () =>
    db
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder('userId'))),
  );
  const [user] = await statement.execute({ userId: id });
  return user;
}
