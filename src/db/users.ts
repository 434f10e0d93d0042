import { and, eq, isNotNull, lte, sql, type SQLWrapper } from 'drizzle-orm';
import type { SelectedFields } from 'drizzle-orm/pg-core';
import { accountInactive, adminAllowed, tokenRevoked, type Caller } from '../lib/actor.ts';
import type { KeyMaxRole } from '../lib/api-keys.ts';
import { apiKeys } from './api-key-schema.ts';
import { requestValues, type RequestValues } from './audit.ts';
import type { Database } from './client.ts';
import { guard, GuardedWrite, lockedRow, oneRow } from './guards.ts';
import { users, type UserRow } from './schema.ts';
import { slots, statement, type Slots } from './statements.ts';

/** The placeholder values that name the caller in a statement, and the request for the audit trail (db/audit.ts). */
export type CallerValues = RequestValues & {
  callerId: string;
  tokenEpoch: number;
  /** The API key presented (its id, and the digest of the whole key), or null for a session. */
  keyId: string | null;
  keyHash: string | null;
  /** Whether the caller may use an admin's powers: a session, or a key with the `admin` scope. */
  adminAllowed: boolean;
  /** The key's role cap in projects, if any. */
  maxRole: KeyMaxRole | null;
};

/** The caller's placeholders, for expressions declared once at module scope (every statement fills them in). */
export const $caller = slots<CallerValues>();

/**
 * The presented API key (none for a session) is the caller's, live (neither revoked nor expired), and the very
 * key that was issued: its digest, over every part the key carries (its id, user and grant), is the stored one.
 */
const keyIsLive = ($: Slots<CallerValues>) =>
  sql`(${$.keyId}::uuid is null or exists (
    select 1 from ${apiKeys}
    where ${apiKeys.id} = ${$.keyId}::uuid and ${apiKeys.userId} = ${users.id} and ${apiKeys.keyHash} = ${$.keyHash}::text
      and ${apiKeys.revokedAt} is null and ${apiKeys.expiresAt} > now()
  ))`;

/**
 * The caller's users row, in statements executed with `callerValues`: only while the token's epoch is still
 * the user's, so a revoked token finds no caller (401), and only while the API key presented, if any, is live.
 */
export const isCaller = ($: Slots<CallerValues>) =>
  and(eq(users.id, $.callerId), lte(users.tokenEpoch, $.tokenEpoch), keyIsLive($));

/**
 * The caller's role as this request may use it: an admin acting through a key without the `admin` scope
 * acts as a user. Every check of the admin override reads this, never `users.role`.
 */
export const callerRole = sql<string>`(case when ${$caller.adminAllowed} then ${users.role} else 'user' end)`;

/** The admin override, as this request may use it (`callerRole`). */
export const callerIsAdmin = sql<boolean>`(${callerRole} = 'admin')`;

/**
 * A project the presented key may reach (every project for a session or a key without `project_ids`):
 * for a statement's joins to the caller's memberships, so any other project is unknown to the key.
 */
export const keyReaches = (projectId: SQLWrapper) =>
  sql`(${$caller.keyId}::uuid is null or exists (
    select 1 from ${apiKeys}
    where ${apiKeys.id} = ${$caller.keyId}::uuid and (${apiKeys.projectIds} is null or ${projectId} = any(${apiKeys.projectIds}))
  ))`;

/**
 * The caller's columns that authorisation needs (see lib/actor.ts); the id is already the token's. Routes
 * select them beside their own data, `from users ... where isCaller($)`, so checking the caller costs no
 * statement of its own.
 */
export const actorColumns = { role: callerRole, isActive: users.isActive };

export const callerValues = (caller: Caller): CallerValues => ({
  ...requestValues(caller.request, caller.id),
  callerId: caller.id,
  tokenEpoch: caller.tokenEpoch,
  keyId: caller.key?.keyId ?? null,
  keyHash: caller.key?.keyHash ?? null,
  adminAllowed: adminAllowed(caller),
  maxRole: caller.key?.maxRole ?? null,
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

/**
 * The guards every write by a signed-in caller starts with, over a facts CTE that has the caller's `users`
 * row under its own name (joined on `isCaller`): the token's user at its epoch (401), and active (403).
 */
export const callerGuards = <Facts>() => [
  guard<Facts>('caller_known', isNotNull(users.id), tokenRevoked),
  guard<Facts>('caller_active', users.isActive, accountInactive),
];

/** A write to the caller's own account or sessions: the caller's own rules are all there is. */
export const OWN_ACCOUNT = new GuardedWrite(...callerGuards());

/** The caller's users row, locked, under the table's own name (see `lockedRow`), for a facts query. */
const lockedCaller = ($: Slots<CallerValues>) => lockedRow(users, isCaller($)!);

/**
 * The facts query of a write to the caller's own account (db/guards.ts): one row with `write`'s guard results
 * and `columns` of the caller's users row, which it locks (the row the write changes, or owns what it
 * changes). Name `columns` apart from the users columns an UPDATE ... RETURNING names unqualified. A write
 * about another row too joins that row's `lockedRow` to it.
 */
export const callerFactsQuery = <Columns extends SelectedFields>(
  db: Database,
  $: Slots<CallerValues>,
  write: GuardedWrite<never>,
  columns: Columns,
) =>
  db
    .select(write.facts({ callerId: sql<string | null>`${users.id}`.as('caller_id'), ...columns }))
    .from(oneRow)
    .leftJoinLateral(lockedCaller($), sql`true`);

/** `callerFactsQuery` as the CTE `facts`, for a write about the caller's own row alone. */
export const callerAccountFacts = <Columns extends SelectedFields>(
  db: Database,
  $: Slots<CallerValues>,
  write: GuardedWrite<never>,
  columns: Columns,
) => db.$with('facts').as(callerFactsQuery(db, $, write, columns));

/**
 * The users columns a new password sets: the hash, and a new token epoch, which ends every access token
 * issued before (and every token a mailed reset or email change carries).
 */
export const newPasswordSet = ($: Slots<{ passwordHash: string }>) => ({
  passwordHash: sql`${$.passwordHash}::text`,
  tokenEpoch: sql`${users.tokenEpoch} + 1`,
  updatedAt: sql`now()`,
});
