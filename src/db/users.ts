import { and, eq, lte } from 'drizzle-orm';
import type { Caller } from '../lib/actor.ts';
import { requestValues, type RequestValues } from './audit.ts';
import type { Database } from './client.ts';
import { users, type UserRow } from './schema.ts';
import { slots, statement, type Slots } from './statements.ts';

/**
 * The caller's columns that authorisation needs (see lib/actor.ts); the id is already the token's. Routes
 * select them beside their own data, `from users ... where isCaller($)`, so checking the caller costs no
 * statement of its own.
 */
export const actorColumns = { role: users.role, isActive: users.isActive };

/** The placeholder values that name the caller in a statement, and the request for the audit trail (db/audit.ts). */
export type CallerValues = RequestValues & { callerId: string; tokenEpoch: number };

/**
 * The caller's users row, in statements executed with `callerValues`: only while the token's epoch is still
 * the user's, so a revoked token finds no caller (401).
 */
export const isCaller = ($: Slots<CallerValues>) => and(eq(users.id, $.callerId), lte(users.tokenEpoch, $.tokenEpoch));

export const callerValues = (caller: Caller): CallerValues => ({
  ...requestValues(caller.request, caller.id),
  callerId: caller.id,
  tokenEpoch: caller.tokenEpoch,
});

const CALLER = statement('caller', slots<CallerValues>(), (db, $) => db.select().from(users).where(isCaller($)));

/**
 * The caller's whole row, for the routes that read the caller alone (see middleware/auth.ts); none when the
 * token was revoked. It lives here, below the middleware, rather than in the users module the middleware
 * must not import.
 */
export async function findCaller(db: Database, caller: Caller): Promise<UserRow | undefined> {
  const [user] = await CALLER.on(db).execute(callerValues(caller));
  return user;
}

const USER_BY_ID = statement('user_by_id', slots<{ userId: string }>(), (db, $) =>
  db.select().from(users).where(eq(users.id, $.userId)),
);

/** Any user's row by id (the admin routes). */
export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  const [user] = await USER_BY_ID.on(db).execute({ userId: id });
  return user;
}
