import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { AccountTokenKind } from './account-schema.ts';
import type { AuditAction } from './schema.ts';

/*
 * Counts a limit is judged by, read after the lock that serialises the writes it limits. A guard (db/guards.ts)
 * is evaluated over its statement's snapshot, taken before the statement waited for the locked row: a count
 * there misses what a concurrent writer committed meanwhile, and two racing writes could both pass a limit
 * of one. These call VOLATILE functions (migrations 0012, 0013), which read with a fresh snapshot in READ COMMITTED,
 * so a statement that holds the lock (the caller's row, the project's) counts everything committed before it.
 */

/** The user's account tokens of `kind` made since `since`. */
export const recentAccountTokens = (userId: SQLWrapper, kind: AccountTokenKind, since: SQLWrapper) =>
  sql<number>`recent_account_tokens(${userId}, ${sql.raw(`'${kind}'`)}, ${since})`;

/** The project's pending, unexpired invitations, but the one to `exceptEmail`. */
export const pendingInvitations = (projectId: SQLWrapper, exceptEmail: SQLWrapper) =>
  sql<number>`pending_invitations(${projectId}, ${exceptEmail})`;

/** The actor's audit events of `action` since `since`. */
export const recentActions = (actorId: SQLWrapper, action: AuditAction, since: SQLWrapper) =>
  sql<number>`recent_actions(${actorId}, ${sql.raw(`'${action}'`)}, ${since})`;

/** The user's live (neither revoked nor expired) API keys (migration 0013). */
export const liveApiKeys = (userId: SQLWrapper) => sql<number>`live_api_keys(${userId})`;

/** The hour an hourly limit counts, as its counts (above) and `retryAfterHourly` read it. */
export const LAST_HOUR = sql`now() - interval '1 hour'`;

/**
 * For Retry-After, when an hourly limit refused: seconds until the oldest row of `table` that `counted`
 * (its rows of the last hour) finds leaves the hour, by its `at` column. Read in the statement's snapshot,
 * which is fine for a hint.
 */
export const retryAfterHourly = (table: PgTable, at: SQLWrapper, counted: SQL) =>
  sql<number>`(select coalesce(ceil(extract(epoch from min(${at}) + interval '1 hour' - now()))::int, 1)
    from ${table} where ${counted} and ${at} > ${LAST_HOUR})`;
