import { and, eq, sql, type SQLWrapper, type Subquery } from 'drizzle-orm';
import { QueryBuilder, type SelectedFields } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/client.ts';
import { slots, statement, type Slots } from '../../db/statements.ts';
import { toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { guard } from '../../db/guards.ts';
import { projectMembers, projects, users, type ProjectRole, type ProjectRow } from '../../db/schema.ts';
import {
  $caller,
  actorColumns,
  callerIsAdmin,
  callerValues,
  isCaller,
  keyReaches,
  type CallerValues,
} from '../../db/users.ts';
import { authorizeActor, isAdmin, type Actor, type Caller } from '../../lib/actor.ts';
import { notFound } from '../../lib/problem.ts';
import {
  callerMaySql,
  cappedRoleSql,
  requireAccess,
  roleRequired,
  type ProjectAction,
  type Standing,
} from './access.ts';

/*
 * The caller's standing in a project, read inside the statement that needs it, so a request stays one
 * statement: the caller's users row (exists, active, admin) and their project_members row, joined with
 * the project. Reads select it beside their data; writes judge it in their guards (below).
 */

/**
 * The caller's memberships as this request may use them, under their own name so they never collide with the
 * table a statement writes: with an API key, only the projects it reaches, each role lowered to its cap. Every
 * project-scoped statement judges the caller's role from here, so no key acts beyond its owner or its grant.
 */
export const callerMembership = new QueryBuilder()
  .select({
    projectId: projectMembers.projectId,
    userId: projectMembers.userId,
    // Named apart from every table's `role`: drizzle names a subquery's computed column unqualified.
    role: sql<ProjectRole>`${cappedRoleSql(projectMembers.role, $caller.maxRole)}`.as('caller_member_role'),
  })
  .from(projectMembers)
  .where(keyReaches(projectMembers.projectId))
  .as('caller_membership');

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

const PROJECT_WITH_STANDING = statement(
  'project_with_standing',
  slots<CallerValues & { projectId: string }>(),
  (db, $) =>
    db
      .select({ actor: actorColumns, project: projects, membershipRole: callerMembership.role })
      .from(users)
      .leftJoin(projects, eq(projects.id, $.projectId))
      .leftJoin(callerMembership, joinCallerMembership())
      .where(isCaller($)),
);

/** One project by id (deleted or not) with the caller checked (401/403) and their standing in it. */
export async function findProjectWithStanding(db: Database, caller: Caller, projectId: string) {
  const [row] = await PROJECT_WITH_STANDING.on(db).execute({ ...callerValues(caller), projectId });
  const actor = callerFrom(caller, row?.actor);
  return {
    actor,
    project: (row?.project ?? undefined) as ProjectRow | undefined,
    standing: standingOf(actor, row?.membershipRole),
  };
}

/*
 * The guards (db/guards.ts) every project-scoped write has after the caller's own (`callerGuards` of
 * db/users.ts), over a facts CTE that joins the caller's `users` row (on `isCaller`) and `callerMembership`:
 * whether they may know the project or task at all (404, as reads answer), then their role (403).
 */

/**
 * `known` (the project or task exists in the state the write needs) and the caller is a member or an
 * admin: else 404 `notFoundAs`, as a non-member may not learn it exists. Then the role `action` needs,
 * unless `orElse` holds (a member leaving the project needs no role).
 */
export const accessGuards = <Facts>(
  action: ProjectAction,
  known: SQLWrapper,
  notFoundAs: 'project' | 'task',
  orElse: SQLWrapper = sql`false`,
) => [
  guard<Facts>(
    `${notFoundAs}_known`,
    sql`(${known} and (${callerMembership.role} is not null or ${callerIsAdmin}))`,
    () => notFound(notFoundAs),
  ),
  guard<Facts>('role_allows', sql`(${orElse} or ${callerMaySql(action, callerIsAdmin, callerMembership.role)})`, () =>
    roleRequired(action),
  ),
];

/*
 * A page of something a project holds (its members, its invitations), read with the caller's standing in
 * the same statement: one row per item (`item`, null on an empty page), each beside the caller's
 * `actorColumns`, the project (`{ id, deletedAt }`) and their membership role, so a caller who may not read
 * the list gets their 404 or 403 from the rows themselves.
 */

/**
 * The statement of such a page: `selection` (the regrouped `item`, `sortKey`, `total`) beside the caller's
 * standing, one row per item of `page` (a LATERAL subquery), the caller found by `isCaller`.
 */
export const pageWithStanding = <Selection extends SelectedFields>(
  db: Database,
  $: Slots<CallerValues & { projectId: string }>,
  page: Subquery,
  selection: Selection,
) =>
  db
    .select({
      actor: actorColumns,
      project: { id: projects.id, deletedAt: projects.deletedAt },
      membershipRole: callerMembership.role,
      ...selection,
    })
    .from(users)
    .leftJoin(projects, eq(projects.id, $.projectId))
    .leftJoin(callerMembership, joinCallerMembership())
    .leftJoinLateral(page, sql`true`)
    .where(isCaller($));

/**
 * The page those rows make, once the caller may do `action` (404 or 403 otherwise). An empty page is one row
 * whose item is all null; every other item is whole (its columns are the page's, not nullable).
 */
export function toPageWithStanding<Item>(
  rows: {
    actor: { role: string; isActive: boolean } | null;
    project: { id: string | null; deletedAt: Date | null } | null;
    membershipRole: ProjectRole | null;
    item: Item | null;
    sortKey: string | null;
    total: number;
  }[],
  caller: Caller,
  action: ProjectAction,
  pageRequest: PageRequest,
  idOf: (item: Item) => string | null,
): Page<Item> {
  const first = rows[0];
  const project = first?.project?.id ? (first.project as { deletedAt: Date | null }) : null;
  requireAccess(project, standingOf(callerFrom(caller, first?.actor), first?.membershipRole), action);
  return toPage(
    rows.filter((row) => row.item !== null && idOf(row.item) !== null),
    pageRequest,
    { count: first!.total, item: (row) => row.item!, key: (row) => [row.sortKey!, idOf(row.item!)!] },
  );
}
