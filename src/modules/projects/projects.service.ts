import { and, eq, getTableColumns, isNotNull, isNull, sql, type SQLWrapper } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { auditOf, changesOf, rowBefore, type AuditField } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
import { prepared, type Database } from '../../db/client.ts';
import { isNotNullViolation } from '../../db/errors.ts';
import {
  DEFAULT_WORKFLOW,
  projectMembers,
  projects,
  users,
  workflowStates,
  type AuditAction,
  type ProjectRow,
} from '../../db/schema.ts';
import { callerValues, findCaller, isCaller } from '../../db/users.ts';
import { authorizeActor, type Caller } from '../../lib/actor.ts';
import { etagFor, preconditionHolds, type Precondition } from '../../lib/etag.ts';
import { ifMatchValues, versionMatches } from '../../db/if-match.ts';
import { AppError, conflict, notFound } from '../../lib/problem.ts';
import { myRole, requireAccess, type MyRole, type ProjectAction, type Standing } from './access.ts';
import { callerMayWrite, callerMembershipRole, findProjectWithStanding } from './standing.ts';

/*
 * Every function takes the caller's id from the access token and checks the caller (exists, active,
 * admin) and their standing in the project (access.ts) in the same statement that reads or writes the
 * project. A request is one statement and one round trip; only a refusal costs a second, to say why. The
 * statements of the common requests are `prepared` once per shape and then only filled in.
 */

/** A project as one caller sees it: with their role in it (`my_role`). */
export type ProjectView = ProjectRow & { myRole: MyRole };

const viewOf = (project: ProjectRow, standing: Standing): ProjectView => ({ ...project, myRole: myRole(standing)! });

/** The caller's active users row, as a scalar subquery: NULL when they are gone or inactive. */
const activeCallerId = sql`(select ${users.id} from ${users} where ${and(isCaller, eq(users.isActive, true))})`;

const projectColumns = getTableColumns(projects);

/** The audited fields of a project, as a change from the `old_`-prefixed columns to the current ones. */
const PROJECT_FIELDS = ['name', 'description', 'owner_id', 'deleted_at'] as const;
const PROJECT_CHANGED: AuditField[] = PROJECT_FIELDS.filter((field) => field !== 'owner_id').map((field) => [
  field,
  sql.identifier(`old_${field}`),
  sql.identifier(field),
]);
const PROJECT_CREATED: AuditField[] = PROJECT_FIELDS.slice(0, 3).map((field) => [field, null, sql.identifier(field)]);

/** The audit rows of the projects a statement wrote (`rows`, a CTE), one each. */
const auditedProjects = (rows: SQLWrapper, fields: AuditField[]) =>
  sql`select id as entity_id, id as project_id, ${changesOf(fields)} as changes from ${rows}`;

/**
 * The project, its owner's membership row and its default workflow, in one statement: the project row is
 * inserted with the caller as owner (NULL if the caller is not active, which NOT NULL refuses before
 * anything is written), the other rows beside it. Their foreign keys are checked at the end of the statement.
 */
export async function createProject(
  db: Database,
  caller: Caller,
  input: { name: string; description?: string | null },
): Promise<ProjectView> {
  const statement = prepared(db, 'create_project', () => {
    const ownerMembership = db.$with('owner_membership').as(
      db.insert(projectMembers).values({
        projectId: sql.placeholder('projectId'),
        userId: sql.placeholder('callerId'),
        role: 'owner',
        projectCreatedAt: sql.placeholder('createdAt'),
        addedAt: sql.placeholder('createdAt'),
        addedBy: sql.placeholder('callerId'),
      }),
    );
    const defaultWorkflow = db.$with('default_workflow').as(
      db.insert(workflowStates).values(
        DEFAULT_WORKFLOW.map((state, position) => ({
          projectId: sql.placeholder('projectId'),
          name: state.name,
          category: state.category,
          position,
        })),
      ),
    );
    const created = db.$with('created').as(
      db
        .insert(projects)
        .values({
          id: sql.placeholder('projectId'),
          ownerId: activeCallerId,
          name: sql.placeholder('name'),
          description: sql.placeholder('description'),
          createdAt: sql.placeholder('createdAt'),
          updatedAt: sql.placeholder('createdAt'),
        })
        .returning(),
    );
    const audit = db
      .$with('audit', {})
      .as(auditOf('project.create', 'project', auditedProjects(created, PROJECT_CREATED)));
    return db
      .with(ownerMembership, defaultWorkflow, created, audit)
      .select(regroup(projectColumns, created))
      .from(created)
      .prepare('create_project');
  });
  try {
    const [project] = await statement.execute({
      ...callerValues(caller),
      projectId: crypto.randomUUID(),
      name: input.name,
      description: input.description ?? null,
      createdAt: new Date(),
    });
    return { ...project!, myRole: 'owner' };
  } catch (error) {
    if (!isNotNullViolation(error, 'owner_id')) throw error;
    authorizeActor(await findCaller(db, caller));
    throw conflict('changed_meanwhile', 'your account changed while the request was processed; retry');
  }
}

export async function getProject(db: Database, caller: Caller, id: string): Promise<ProjectView> {
  const { project, standing } = await findProjectWithStanding(db, caller, id);
  requireAccess(project, standing, 'readProject');
  return viewOf(project!, standing);
}

type ProjectState = 'active' | 'deleted';

/** One kind of change: its name (one prepared statement per name and If-Match form), the right and state it needs, what it sets. */
interface Mutation {
  name: string;
  action: ProjectAction;
  /** What the audit trail calls it. */
  audit: AuditAction;
  expectedState: ProjectState;
  set: () => PgUpdateSetSource<typeof projects>;
  /** Values for the placeholders `set` uses. */
  values?: Record<string, unknown>;
}

/**
 * Every change is one conditional UPDATE (the caller's right, the state and If-Match in the WHERE clause),
 * so the happy path is a single statement and no concurrent writer, deactivation, role or membership
 * change can slip in between check and write. Only when nothing matched does a second query find out why.
 */
async function mutateProject(
  db: Database,
  caller: Caller,
  id: string,
  mutation: Mutation,
  precondition: Precondition | undefined,
): Promise<ProjectView> {
  const { form, versions } = ifMatchValues(precondition);
  const shape = `${mutation.name}:${form}`;
  const statement = prepared(db, shape, () => {
    const before = rowBefore(projects, eq(projects.id, sql.placeholder('id')), {
      id: projects.id,
      oldName: sql`${projects.name}`.as('old_name'),
      oldDescription: sql`${projects.description}`.as('old_description'),
      oldDeletedAt: sql`${projects.deletedAt}`.as('old_deleted_at'),
    });
    const changed = db.$with('changed').as(
      db
        .update(projects)
        .set({ ...mutation.set(), version: sql`${projects.version} + 1`, updatedAt: sql`now()` })
        .from(before)
        .where(
          and(
            eq(projects.id, before.id),
            mutation.expectedState === 'active' ? isNull(projects.deletedAt) : isNotNull(projects.deletedAt),
            callerMayWrite(mutation.action),
            versionMatches(projects.version, form),
          ),
        )
        .returning({
          ...projectColumns,
          membershipRole: callerMembershipRole().as('membership_role'),
          oldName: before.oldName,
          oldDescription: before.oldDescription,
          oldDeletedAt: before.oldDeletedAt,
        }),
    );
    const audit = db
      .$with('audit', {})
      .as(auditOf(mutation.audit, 'project', auditedProjects(changed, PROJECT_CHANGED)));
    return db
      .with(changed, audit)
      .select({ ...regroup(projectColumns, changed), membershipRole: changed.membershipRole })
      .from(changed)
      .prepare(shape);
  });
  const [updated] = await statement.execute({ ...mutation.values, ...callerValues(caller), id, versions });
  if (updated) {
    const { membershipRole, ...project } = updated;
    // The write passed its right check, so a caller without a membership is an admin.
    return { ...project, myRole: membershipRole ?? 'admin' };
  }
  throw await explainRejectedWrite(db, caller, id, mutation, precondition);
}

async function explainRejectedWrite(
  db: Database,
  caller: Caller,
  id: string,
  mutation: Mutation,
  precondition: Precondition | undefined,
): Promise<AppError> {
  const { project, standing } = await findProjectWithStanding(db, caller, id);
  // A deleted project is gone for every change but restoring it, for admins too.
  if (!project || (mutation.expectedState === 'active' && project.deletedAt !== null)) return notFound('project');
  requireAccess(project, standing, mutation.action, { deletedVisible: true });
  if (mutation.expectedState === 'deleted' && project.deletedAt === null)
    return conflict('not_deleted', 'the project is not deleted');
  if (!preconditionHolds(precondition, project.version)) {
    return new AppError('precondition_failed', 'If-Match does not match the current version of the project', {
      headers: { ETag: etagFor(project.version) },
    });
  }
  return conflict('changed_meanwhile', 'the project changed while the request was processed; retry');
}

/** A value filled in when a prepared statement runs, where drizzle wants SQL rather than a placeholder. */
const slot = (name: string) => sql`${sql.placeholder(name)}`;

export const updateProject = (
  db: Database,
  caller: Caller,
  id: string,
  changes: { name?: string; description?: string | null },
  precondition?: Precondition,
) => {
  const fields = (['name', 'description'] as const).filter((field) => changes[field] !== undefined);
  const mutation: Mutation = {
    name: `update_project:${fields.join(',')}`,
    action: 'updateProject',
    audit: 'project.update',
    expectedState: 'active',
    set: () => Object.fromEntries(fields.map((field) => [field, slot(field)])),
    values: changes,
  };
  return mutateProject(db, caller, id, mutation, precondition);
};

const SOFT_DELETE: Mutation = {
  name: 'delete_project',
  action: 'deleteProject',
  audit: 'project.delete',
  expectedState: 'active',
  set: () => ({ isActive: false, deletedAt: sql`now()` }),
};
const RESTORE: Mutation = {
  name: 'restore_project',
  action: 'restoreProject',
  audit: 'project.restore',
  expectedState: 'deleted',
  set: () => ({ isActive: true, deletedAt: null }),
};

export const softDeleteProject = (db: Database, caller: Caller, id: string, precondition?: Precondition) =>
  mutateProject(db, caller, id, SOFT_DELETE, precondition);

export const restoreProject = (db: Database, caller: Caller, id: string, precondition?: Precondition) =>
  mutateProject(db, caller, id, RESTORE, precondition);
