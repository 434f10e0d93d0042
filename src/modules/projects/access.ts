import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { PROJECT_ROLES, type ProjectRole } from '../../db/schema.ts';
import type { Scope } from '../../lib/api-keys.ts';
import { forbidden, notFound } from '../../lib/problem.ts';

/**
 * Who may do what in a project: every rule, in one place, for the code and the SQL alike.
 *
 * A caller's standing in a project is their membership role (viewer < editor < manager < owner; the
 * owner has a membership row too) or none, plus the admin override. Each action needs a least role; a
 * role may do everything the roles below it may. `mayDo` judges a standing read from the database;
 * `callerMaySql` is the same judgement inside a statement, so a write checks it in its own WHERE.
 */
const RANK: Record<ProjectRole, number> = Object.fromEntries(
  PROJECT_ROLES.map((role, index) => [role, index + 1]),
) as Record<ProjectRole, number>;

/** The least role each action needs. */
export const REQUIRED_ROLE = {
  readProject: 'viewer',
  updateProject: 'manager',
  deleteProject: 'owner',
  restoreProject: 'owner',
  transferProject: 'owner',
  readMembers: 'viewer',
  manageMembers: 'manager',
  readTasks: 'viewer',
  writeTasks: 'editor',
  readDeletedTasks: 'manager',
  manageWorkflow: 'manager',
  readActivity: 'viewer',
} as const satisfies Record<string, ProjectRole>;
export type ProjectAction = keyof typeof REQUIRED_ROLE;

/**
 * The API key scope each action needs (lib/api-keys.ts): reading and writing each kind of thing a project
 * holds. A key's right is the least of its scope, its role cap and its owner's standing.
 */
export const ACTION_SCOPES = {
  readProject: 'projects:read',
  updateProject: 'projects:write',
  deleteProject: 'projects:write',
  restoreProject: 'projects:write',
  transferProject: 'projects:write',
  readMembers: 'members:read',
  manageMembers: 'members:write',
  readTasks: 'tasks:read',
  writeTasks: 'tasks:write',
  readDeletedTasks: 'tasks:read',
  manageWorkflow: 'workflows:write',
  readActivity: 'audit:read',
} as const satisfies Record<ProjectAction, Scope>;

/** `my_role` in responses: the caller's membership role, or `admin` where only the override applies. */
export type MyRole = ProjectRole | 'admin';

export interface Standing {
  /** The caller's membership role in the project, or null when not a member. */
  role: ProjectRole | null;
  callerIsAdmin: boolean;
}

export const myRole = (standing: Standing): MyRole | null => standing.role ?? (standing.callerIsAdmin ? 'admin' : null);

export const mayDo = (standing: Standing, action: ProjectAction): boolean =>
  standing.callerIsAdmin || (standing.role !== null && RANK[standing.role] >= RANK[REQUIRED_ROLE[action]]);

/**
 * Refuses `action` unless the standing allows it: 404 when the caller may not even know the project
 * exists (unknown, not a member, or soft-deleted for non-admins unless `deletedVisible`, as for restoring
 * it), 403 when they are a member without the right.
 */
export function requireAccess(
  project: { deletedAt: Date | null } | null | undefined,
  standing: Standing,
  action: ProjectAction,
  options: { deletedVisible?: boolean; notFoundAs?: string } = {},
): void {
  const hidden = project && project.deletedAt !== null && !standing.callerIsAdmin && !options.deletedVisible;
  // What is not found: the project, or the task reached through it (which a non-member may not know of either).
  if (!project || hidden || myRole(standing) === null) throw notFound(options.notFoundAs ?? 'project');
  if (!mayDo(standing, action)) throw roleRequired(action);
}

/** The 403 of a member whose role is below what `action` needs. */
export const roleRequired = (action: ProjectAction) =>
  forbidden('project_role_required', `this action needs the ${REQUIRED_ROLE[action]} role in the project`);

/** The rank of a membership role column in SQL (0 when null), generated from the same ranks. */
const rankSql = (role: SQLWrapper) =>
  sql`(case ${role} ${sql.join(
    PROJECT_ROLES.map((name) => sql.raw(`when '${name}' then ${RANK[name]}`)),
    sql` `,
  )} else 0 end)`;

/** In SQL: the membership role `role`, lowered to `cap` when `cap` (a key's role cap) is lower; null caps nothing. */
export const cappedRoleSql = (role: SQLWrapper, cap: SQLWrapper): SQL =>
  sql`(case when ${cap}::text is null or ${rankSql(role)} <= ${rankSql(sql`${cap}::text`)} then ${role} else ${cap}::text end)`;

/** In SQL: may a caller who is an admin (`callerIsAdmin`) or whose membership role is `memberRole` do `action`? */
export const callerMaySql = (action: ProjectAction, callerIsAdmin: SQLWrapper, memberRole: SQLWrapper): SQL =>
  sql`(${callerIsAdmin} or ${rankSql(memberRole)} >= ${sql.raw(String(RANK[REQUIRED_ROLE[action]]))})`;

/** Who may do `action`, as route summaries and the README's "Who" column say it. */
export const whoMay = (action: ProjectAction): string =>
  ({
    viewer: 'any member, admin',
    editor: 'editor, manager, owner, admin',
    manager: 'manager, owner, admin',
    owner: 'owner, admin',
  })[REQUIRED_ROLE[action]];
