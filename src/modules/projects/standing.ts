import { and, eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import { prepared, type Database } from '../../db/client.ts';
import { projectMembers, projects, users, type ProjectRow } from '../../db/schema.ts';
import { actorColumns, callerValues, isCaller } from '../../db/users.ts';
import { authorizeActor, isAdmin, type Actor, type Caller } from '../../lib/actor.ts';
import { callerMaySql, type ProjectAction, type Standing } from './access.ts';

/*
 * The caller's standing in a project, read inside the statement that needs it, so a request stays one
 * statement: the caller's users row (exists, active, admin) and their project_members row, joined with
 * the project. Reads select it beside their data; writes test it in their WHERE (`callerMayWrite`).
 */

/** The caller's own membership row, under its own name so it never collides with the table a statement writes. */
export const callerMembership = alias(projectMembers, 'caller_membership');

/** Joins `callerMembership` to the project `projectId` for the caller in `users`. */
export const joinCallerMembership = (projectId: SQLWrapper = projects.id) =>
  and(eq(callerMembership.projectId, projectId), eq(callerMembership.userId, users.id));

/** The caller as the token names them and the database has them: 401/403 unless the row says active. */
export const callerFrom = (caller: Caller, row: { role: string; isActive: boolean } | null | undefined): Actor => ({
  id: caller.id,
  role: authorizeActor(row).role,
});

export const standingOf = (actor: Actor, membershipRole: Standing['role'] | null | undefined): Standing => ({
  role: membershipRole ?? null,
  callerIsAdmin: isAdmin(actor),
});

/** One project by id (deleted or not) with the caller checked (401/403) and their standing in it. */
export async function findProjectWithStanding(db: Database, caller: Caller, projectId: string) {
  const statement = prepared(db, 'project_with_standing', () =>
    db
      .select({ actor: actorColumns, project: projects, membershipRole: callerMembership.role })
      .from(users)
      .leftJoin(projects, eq(projects.id, sql.placeholder('projectId')))
      .leftJoin(callerMembership, joinCallerMembership())
      .where(isCaller)
      .prepare('project_with_standing'),
  );
  const [row] = await statement.execute({ ...callerValues(caller), projectId });
  const actor = callerFrom(caller, row?.actor);
  return {
    actor,
    project: (row?.project ?? undefined) as ProjectRow | undefined,
    standing: standingOf(actor, row?.membershipRole),
  };
}

/** Builds subqueries that need no database of their own. */
const subquery = new QueryBuilder();

/**
 * For a write's WHERE: true when the caller is active and may do `action` in the project `projectId`,
 * as a scalar subquery (cheaper to plan than `update ... from users`). No active caller gives NULL, so no
 * write. Statements using it are executed with a `caller` value.
 */
export const callerMayWrite = (action: ProjectAction, projectId: SQLWrapper = projects.id): SQL =>
  sql`(${subquery
    .select({ allowed: callerMaySql(action, users.role, callerMembership.role) })
    .from(users)
    .leftJoin(callerMembership, joinCallerMembership(projectId))
    .where(and(isCaller, eq(users.isActive, true)))})`;

/** The caller's membership role in the project `projectId`, for a write's RETURNING. */
export const callerMembershipRole = (projectId: SQLWrapper = projects.id): SQL<Standing['role']> =>
  sql<Standing['role']>`(${subquery
    .select({ role: callerMembership.role })
    .from(callerMembership)
    .where(and(eq(callerMembership.projectId, projectId), eq(callerMembership.userId, sql.placeholder('callerId'))))})`;
