import { and, eq, getTableColumns, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { WithSubquery } from 'drizzle-orm/subquery';
import { QueryBuilder, type PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { auditOf, changesOf } from '../../db/audit.ts';
import { regroup } from '../../db/pagination.ts';
import type { Database } from '../../db/client.ts';
import { FLAG, slots, statement, statementFamily, type Executable, type Slots } from '../../db/statements.ts';
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
import { callerValues, isCaller, type CallerValues } from '../../db/users.ts';
import type { Caller } from '../../lib/actor.ts';
import type { Precondition } from '../../lib/etag.ts';
import { ifMatchValues, type IfMatchValues } from '../../db/if-match.ts';
import { myRole, requireAccess, type MyRole, type Standing } from './access.ts';
import { CREATE, DELETE, RESTORE, UPDATE, type ProjectFacts } from './projects.guards.ts';
import { callerMembership, findProjectWithStanding, joinCallerMembership } from './standing.ts';

/*
 * Every function takes the caller's id from the access token and checks the caller (exists, active,
 * admin) and their standing in the project (access.ts) in the same statement that reads or writes the
 * project. A request is one statement and one round trip, a refusal included: writes are guarded
 * (db/guards.ts). The statements are declared once (db/statements.ts), built once per shape and then only filled in.
 */

/** A project as one caller sees it: with their role in it (`my_role`). */
export type ProjectView = ProjectRow & { myRole: MyRole };

const viewOf = (project: ProjectRow, standing: Standing): ProjectView => ({ ...project, myRole: myRole(standing)! });

const subquery = new QueryBuilder();
const projectColumns = getTableColumns(projects);

type ProjectRows = WithSubquery & { [Key in keyof typeof projectColumns]: SQLWrapper };

/** The audit rows of the projects a statement wrote (`rows`, a CTE of whole project rows), one each. */
const auditedProjects = (rows: ProjectRows, changes: SQL) => ({
  from: rows,
  entityId: rows.id,
  projectId: rows.id,
  changes,
});

const CREATE_PROJECT = statement(
  'create_project',
  slots<CallerValues & { projectId: string; name: string; description: string | null }>(),
  (db, $) => {
    const facts = db.$with('facts').as(
      db
        .select(CREATE.facts({ callerId: users.id }))
        .from(oneRow)
        .leftJoin(users, isCaller($)),
    );
    const created = db.$with('created').as(
      db
        .insert(projects)
        .select(
          subquery
            .select({
              id: sql<string>`${$.projectId}::uuid`.as('id'),
              ownerId: sql<string>`${facts.callerId}`.as('owner_id'),
              name: sql<string>`${$.name}`.as('name'),
              description: sql<string | null>`${$.description}`.as('description'),
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
    const changes = changesOf([
      ['name', null, created.name],
      ['description', null, created.description],
      ['owner_id', null, created.ownerId],
    ]);
    const audit = db.$with('audit', {}).as(auditOf($, 'project.create', 'project', auditedProjects(created, changes)));
    return db
      .with(facts, created, ownerMembership, defaultWorkflow, audit)
      .select({ guards: CREATE.results(facts), project: regroup(projectColumns, created) })
      .from(facts)
      .leftJoin(created, sql`true`);
  },
);

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
  const row = await CREATE.run(
    CREATE_PROJECT.on(db).execute({
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

type ChangeValues = CallerValues & IfMatchValues & { id: string };

/** One kind of change: its guards, what it sets. */
interface Mutation {
  write: GuardedWrite<ProjectFacts>;
  /** What the audit trail calls it. */
  audit: AuditAction;
  set: PgUpdateSetSource<typeof projects>;
}

/**
 * Every change is one guarded UPDATE over the locked project (db/guards.ts), so the happy path and a
 * refusal are a single statement each, and no concurrent writer, deactivation, role or membership change
 * can slip in between check and write.
 */
function mutationStatement(db: Database, $: Slots<ChangeValues>, mutation: Mutation) {
  const { write } = mutation;
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
      .leftJoinLateral(lockedRow(projects, eq(projects.id, $.id)), sql`true`)
      .leftJoin(users, isCaller($))
      .leftJoin(callerMembership, joinCallerMembership()),
  );
  const changed = db.$with('changed').as(
    db
      .update(projects)
      .set({ ...mutation.set, version: sql`${projects.version} + 1`, updatedAt: sql`now()` })
      .from(facts)
      .where(and(eq(projects.id, facts.projectId), write.allHold(facts)))
      .returning({
        ...projectColumns,
        oldName: facts.oldName,
        oldDescription: facts.oldDescription,
        oldDeletedAt: facts.oldDeletedAt,
      }),
  );
  const changes = changesOf([
    ['name', changed.oldName, changed.name],
    ['description', changed.oldDescription, changed.description],
    ['deleted_at', changed.oldDeletedAt, changed.deletedAt],
  ]);
  const audit = db.$with('audit', {}).as(auditOf($, mutation.audit, 'project', auditedProjects(changed, changes)));
  return db
    .with(facts, changed, audit)
    .select({
      guards: write.results(facts),
      facts: { version: facts.version, membershipRole: facts.membershipRole },
      project: regroup(projectColumns, changed),
    })
    .from(facts)
    .leftJoin(changed, sql`true`);
}

type Mutating = { write: GuardedWrite<ProjectFacts>; statement: Executable<PreparedMutation, ChangeValues> };
type PreparedMutation = ReturnType<ReturnType<typeof mutationStatement>['prepare']>;

/** Runs a change's statement: the project written, as the caller sees it, or the first failed guard's refusal. */
async function mutateProject(
  { write, statement: changing }: Mutating,
  caller: Caller,
  id: string,
  values: object,
  precondition: Precondition | undefined,
): Promise<ProjectView> {
  const row = await write.run(
    changing.execute({ ...values, ...callerValues(caller), id, ...ifMatchValues(precondition) }),
  );
  const project = write.outcome({ guards: row.guards, facts: row.facts, written: row.project });
  // The write passed its role guard, so a caller without a membership is an admin.
  return { ...project, myRole: row.facts.membershipRole ?? 'admin' };
}

type EditValues = ChangeValues & { name?: string; description?: string | null };
const UPDATE_PROJECT = statementFamily(
  'update_project',
  { name: FLAG, description: FLAG },
  slots<EditValues>(),
  (db, shape, $) =>
    mutationStatement(db, $, {
      write: UPDATE,
      audit: 'project.update',
      set: {
        ...(shape.name ? { name: sql`${$.name}` } : {}),
        ...(shape.description ? { description: sql`${$.description}` } : {}),
      },
    }),
);

export const updateProject = (
  db: Database,
  caller: Caller,
  id: string,
  changes: { name?: string; description?: string | null },
  precondition?: Precondition,
) => {
  const shape = { name: changes.name !== undefined, description: changes.description !== undefined };
  return mutateProject({ write: UPDATE, statement: UPDATE_PROJECT.on(db, shape) }, caller, id, changes, precondition);
};

const changeOf = (name: string, mutation: Mutation) => {
  const changing = statement(name, slots<ChangeValues>(), (db, $) => mutationStatement(db, $, mutation));
  return (db: Database): Mutating => ({ write: mutation.write, statement: changing.on(db) });
};
const SOFT_DELETE_PROJECT = changeOf('delete_project', {
  write: DELETE,
  audit: 'project.delete',
  set: { isActive: false, deletedAt: sql`now()` },
});
const RESTORE_PROJECT = changeOf('restore_project', {
  write: RESTORE,
  audit: 'project.restore',
  set: { isActive: true, deletedAt: null },
});

export const softDeleteProject = (db: Database, caller: Caller, id: string, precondition?: Precondition) =>
  mutateProject(SOFT_DELETE_PROJECT(db), caller, id, {}, precondition);

export const restoreProject = (db: Database, caller: Caller, id: string, precondition?: Precondition) =>
  mutateProject(RESTORE_PROJECT(db), caller, id, {}, precondition);
