import { and, eq, getTableColumns, sql, type SQLWrapper } from 'drizzle-orm';
import { QueryBuilder, type PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { auditOf, changesOf, type AuditField } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
import { prepared, type Database } from '../../db/client.ts';
import { lockedRow, oneRow, type GuardedWrite } from '../../db/guards.ts';
import {
  DEFAULT_WORKFLOW,
  projectMembers,
  projects,
  users,
  workflowStates,
  type AuditAction,
  type ProjectRow,
} from '../../db/schema.ts';
import { callerValues, isCaller } from '../../db/users.ts';
import type { Caller } from '../../lib/actor.ts';
import type { Precondition } from '../../lib/etag.ts';
import { ifMatchValues } from '../../db/if-match.ts';
import { myRole, requireAccess, type MyRole, type Standing } from './access.ts';
import { CREATE, DELETE, RESTORE, UPDATE, type ProjectFacts } from './projects.guards.ts';
import { callerMembership, findProjectWithStanding, joinCallerMembership } from './standing.ts';

/*
 * Every function takes the caller's id from the access token and checks the caller (exists, active,
 * admin) and their standing in the project (access.ts) in the same statement that reads or writes the
 * project. A request is one statement and one round trip, a refusal included: writes are guarded
 * (db/guards.ts). The statements are `prepared` once per shape and then only filled in.
 */

/** A project as one caller sees it: with their role in it (`my_role`). */
export type ProjectView = ProjectRow & { myRole: MyRole };

const viewOf = (project: ProjectRow, standing: Standing): ProjectView => ({ ...project, myRole: myRole(standing)! });

const subquery = new QueryBuilder();
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
 * The project, its owner's membership row and its default workflow, in one guarded statement: the project
 * row is inserted with the caller as owner when the caller may create one, the other rows from it. Their
 * foreign keys are checked at the end of the statement.
 */
export async function createProject(
  db: Database,
  caller: Caller,
  input: { name: string; description?: string | null },
): Promise<ProjectView> {
  const statement = prepared(db, 'create_project', () => {
    const facts = db.$with('facts').as(
      db
        .select(CREATE.facts({ callerId: users.id }))
        .from(oneRow)
        .leftJoin(users, isCaller),
    );
    const created = db.$with('created').as(
      db
        .insert(projects)
        .select(
          subquery
            .select({
              id: sql<string>`${sql.placeholder('projectId')}::uuid`.as('id'),
              ownerId: sql<string>`${facts.callerId}`.as('owner_id'),
              name: sql<string>`${sql.placeholder('name')}`.as('name'),
              description: sql<string | null>`${sql.placeholder('description')}`.as('description'),
              isActive: sql<boolean>`true`.as('is_active'),
              deletedAt: sql<Date | null>`null`.as('deleted_at'),
              version: sql<number>`1`.as('version'),
              transitionsRestricted: sql<boolean>`false`.as('transitions_restricted'),
              createdAt: sql<Date>`now()`.as('created_at'),
              updatedAt: sql<Date>`now()`.as('updated_at'),
            })
            .from(facts)
            .where(CREATE.allHold(facts)),
        )
        .returning(),
    );
    const ownerMembership = db.$with('owner_membership').as(
      db.insert(projectMembers).select(
        subquery
          .select({
            projectId: created.id,
            userId: created.ownerId,
            role: sql<'owner'>`'owner'`.as('role'),
            projectCreatedAt: created.createdAt,
            addedAt: created.createdAt,
            addedBy: created.ownerId,
          })
          .from(created),
      ),
    );
    const defaultWorkflow = db.$with('default_workflow', {}).as(
      sql`insert into ${workflowStates} (project_id, name, category, position)
          select ${created.id}, workflow.name, workflow.category, workflow.position
          from ${created} cross join (values ${sql.join(
            DEFAULT_WORKFLOW.map(
              (state, position) => sql`(${state.name}, ${state.category}, ${sql.raw(String(position))})`,
            ),
            sql`, `,
          )}) as workflow(name, category, position)`,
    );
    const audit = db
      .$with('audit', {})
      .as(auditOf('project.create', 'project', auditedProjects(created, PROJECT_CREATED)));
    return db
      .with(facts, created, ownerMembership, defaultWorkflow, audit)
      .select({ guards: CREATE.results(facts), project: regroup(projectColumns, created) })
      .from(facts)
      .leftJoin(created, sql`true`);
  });
  const row = await CREATE.run(
    statement.execute({
      ...callerValues(caller),
      projectId: crypto.randomUUID(),
      name: input.name,
      description: input.description ?? null,
    }),
  );
  const project = CREATE.outcome({ guards: row.guards, facts: {}, written: row.project });
  return { ...project, myRole: 'owner' };
}

export async function getProject(db: Database, caller: Caller, id: string): Promise<ProjectView> {
  const { project, standing } = await findProjectWithStanding(db, caller, id);
  requireAccess(project, standing, 'readProject');
  return viewOf(project!, standing);
}

/** One kind of change: its name (one prepared statement each), its guards, what it sets. */
interface Mutation {
  name: string;
  write: GuardedWrite<ProjectFacts>;
  /** What the audit trail calls it. */
  audit: AuditAction;
  set: () => PgUpdateSetSource<typeof projects>;
  /** Values for the placeholders `set` uses. */
  values?: Record<string, unknown>;
}

/**
 * Every change is one guarded UPDATE over the locked project (db/guards.ts), so the happy path and a
 * refusal are a single statement each, and no concurrent writer, deactivation, role or membership change
 * can slip in between check and write.
 */
async function mutateProject(
  db: Database,
  caller: Caller,
  id: string,
  mutation: Mutation,
  precondition: Precondition | undefined,
): Promise<ProjectView> {
  const { write } = mutation;
  const statement = prepared(db, mutation.name, () => {
    const facts = db.$with('facts').as(
      db
        .select(
          write.facts({
            // Named apart from the columns of `projects`, which the UPDATE's RETURNING names unqualified.
            projectId: sql<string>`${projects.id}`.as('project_id'),
            version: sql<number | null>`${projects.version}`.as('current_version'),
            oldName: sql`${projects.name}`.as('old_name'),
            oldDescription: sql`${projects.description}`.as('old_description'),
            oldDeletedAt: sql`${projects.deletedAt}`.as('old_deleted_at'),
            membershipRole: sql<Standing['role']>`${callerMembership.role}`.as('membership_role'),
          }),
        )
        .from(oneRow)
        .leftJoinLateral(lockedRow(projects, eq(projects.id, sql.placeholder('id'))), sql`true`)
        .leftJoin(users, isCaller)
        .leftJoin(callerMembership, joinCallerMembership()),
    );
    const changed = db.$with('changed').as(
      db
        .update(projects)
        .set({ ...mutation.set(), version: sql`${projects.version} + 1`, updatedAt: sql`now()` })
        .from(facts)
        .where(and(eq(projects.id, facts.projectId), write.allHold(facts)))
        .returning({
          ...projectColumns,
          oldName: facts.oldName,
          oldDescription: facts.oldDescription,
          oldDeletedAt: facts.oldDeletedAt,
        }),
    );
    const audit = db
      .$with('audit', {})
      .as(auditOf(mutation.audit, 'project', auditedProjects(changed, PROJECT_CHANGED)));
    return db
      .with(facts, changed, audit)
      .select({
        guards: write.results(facts),
        facts: { version: facts.version, membershipRole: facts.membershipRole },
        project: regroup(projectColumns, changed),
      })
      .from(facts)
      .leftJoin(changed, sql`true`);
  });
  const row = await write.run(
    statement.execute({ ...mutation.values, ...callerValues(caller), id, ...ifMatchValues(precondition) }),
  );
  const project = write.outcome({ guards: row.guards, facts: row.facts, written: row.project });
  // The write passed its role guard, so a caller without a membership is an admin.
  return { ...project, myRole: row.facts.membershipRole ?? 'admin' };
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
    write: UPDATE,
    audit: 'project.update',
    set: () => Object.fromEntries(fields.map((field) => [field, slot(field)])),
    values: changes,
  };
  return mutateProject(db, caller, id, mutation, precondition);
};

const SOFT_DELETE_PROJECT: Mutation = {
  name: 'delete_project',
  write: DELETE,
  audit: 'project.delete',
  set: () => ({ isActive: false, deletedAt: sql`now()` }),
};
const RESTORE_PROJECT: Mutation = {
  name: 'restore_project',
  write: RESTORE,
  audit: 'project.restore',
  set: () => ({ isActive: true, deletedAt: null }),
};

export const softDeleteProject = (db: Database, caller: Caller, id: string, precondition?: Precondition) =>
  mutateProject(db, caller, id, SOFT_DELETE_PROJECT, precondition);

export const restoreProject = (db: Database, caller: Caller, id: string, precondition?: Precondition) =>
  mutateProject(db, caller, id, RESTORE_PROJECT, precondition);
