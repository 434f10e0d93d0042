import { and, asc, desc, eq, getTableColumns, gt, isNotNull, isNull, lt, ne, sql, type SQLWrapper } from 'drizzle-orm';
import { alias, QueryBuilder, type PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { auditOf, changesOf, rowBefore, type AuditField } from '../../db/audit.ts';
import { prepared, type Database } from '../../db/client.ts';
import type { Caller } from '../../lib/actor.ts';
import { regroup } from '../../db/pagination.ts';
import {
  projectMembers,
  projects,
  projectTaskCounters,
  TASK_PRIORITIES,
  tasks,
  users,
  workflowStates,
  workflowTransitions,
  type AuditAction,
  type TaskPriority,
} from '../../db/schema.ts';
import { actorColumns, callerValues, isCaller } from '../../db/users.ts';
import { etagFor, preconditionHolds, type Precondition } from '../../lib/etag.ts';
import { ifMatchValues, versionMatches } from '../../db/if-match.ts';
import { AppError, conflict, notFound, validationFailed } from '../../lib/problem.ts';
import { mayDo, requireAccess, type ProjectAction } from '../projects/access.ts';
import {
  callerFrom,
  callerMayWrite,
  callerMembership,
  findProjectWithStanding,
  joinCallerMembership,
  standingOf,
} from '../projects/standing.ts';
import { enteringState, historyOf, startingIn } from './tasks.moves.ts';
import { CREATED_KEY_LENGTH, createdKey, keyBetween, MAX_KEY_LENGTH } from './tasks.position.ts';
import type { TaskChanges, TaskView } from './tasks.schemas.ts';

/*
 * Tasks: every rule about who may do what comes from access.ts through the task's project; each request
 * is one statement that checks the caller, their standing and the task together, and a refusal reads
 * again to say why. Only a manual reorder takes a short transaction (tasks.position.ts says why).
 */

const subquery = new QueryBuilder();
export const taskColumns = getTableColumns(tasks);
/** The state a task is in, as responses show it. */
export const stateFields = { id: workflowStates.id, name: workflowStates.name, category: workflowStates.category };

/** One task (deleted or not), its state and project, and the caller's standing there, in one statement. */
export async function findTaskWithStanding(db: Database, caller: Caller, taskId: string) {
  const statement = prepared(db, 'task_with_standing', () =>
    db
      .select({
        actor: actorColumns,
        task: tasks,
        state: stateFields,
        project: { id: projects.id, deletedAt: projects.deletedAt },
        membershipRole: callerMembership.role,
      })
      .from(users)
      .leftJoin(tasks, eq(tasks.id, sql.placeholder('taskId')))
      .leftJoin(projects, eq(projects.id, tasks.projectId))
      .leftJoin(callerMembership, joinCallerMembership())
      .leftJoin(workflowStates, eq(workflowStates.id, tasks.stateId))
      .where(isCaller)
      .prepare('task_with_standing'),
  );
  const [row] = await statement.execute({ ...callerValues(caller), taskId });
  const standing = standingOf(callerFrom(caller, row?.actor), row?.membershipRole);
  const task: TaskView | undefined = row?.task ? { ...row.task, state: row.state! } : undefined;
  return { task, project: row?.project ?? undefined, standing };
}

/**
 * Refuses `action` on a task: 404 when the caller may not know it (unknown, not a member, its project
 * deleted for non-admins, or the task deleted and `deleted` says it stays hidden), 403 for a member without
 * the right. A deleted task is visible to those who may list deleted tasks, or to `restore`. Only reads
 * reach the tasks of a deleted project (admins): a change needs an active project.
 */
export function requireTaskAccess(
  found: Awaited<ReturnType<typeof findTaskWithStanding>>,
  action: ProjectAction,
  deleted: 'hidden' | 'visible' | 'for managers',
): asserts found is typeof found & { task: TaskView } {
  const { task, project, standing } = found;
  if (!task || (action !== 'readTasks' && project?.deletedAt)) throw notFound('task');
  requireAccess(project, standing, action, { notFoundAs: 'task' });
  const deletedHidden = deleted === 'hidden' || (deleted === 'for managers' && !mayDo(standing, 'readDeletedTasks'));
  if (task.deletedAt !== null && deletedHidden) throw notFound('task');
}

export async function getTask(db: Database, caller: Caller, taskId: string): Promise<TaskView> {
  const found = await findTaskWithStanding(db, caller, taskId);
  requireTaskAccess(found, 'readTasks', 'for managers');
  return found.task;
}

/** The assignee must be the owner or a current member, and active; `null` (unassigned) always may. */
const assigneeMayBe = (projectId: SQLWrapper) =>
  sql`(${sql.placeholder('assigneeId')}::uuid is null or exists (${subquery
    .select({ one: sql`1` })
    .from(projectMembers)
    .innerJoin(users, eq(users.id, projectMembers.userId))
    .where(
      and(
        eq(projectMembers.projectId, projectId),
        eq(projectMembers.userId, sql`${sql.placeholder('assigneeId')}::uuid`),
        eq(users.isActive, true),
      ),
    )}))`;

/** The state a new task starts in: the one named, or the project's first unstarted state (backlog if none). */
const firstState = (projectId: SQLWrapper, named: boolean) =>
  named
    ? sql`${sql.placeholder('stateId')}::uuid`
    : sql`(${subquery
        .select({ id: workflowStates.id })
        .from(workflowStates)
        .where(
          and(eq(workflowStates.projectId, projectId), sql`${workflowStates.category} in ('unstarted', 'backlog')`),
        )
        .orderBy(desc(sql`${workflowStates.category} = 'unstarted'`), asc(workflowStates.position))
        .limit(1)})`;

/** A task's priority by name, as the API and the audit trail show it (stored as its TASK_PRIORITIES index). */
const priorityName = (column: SQLWrapper) =>
  sql`(${sql.raw(`array[${TASK_PRIORITIES.map((name) => `'${name}'`).join(', ')}]`)})[${column} + 1]`;

/** The audited fields of a task (its columns' names), the values they had in `old_`-prefixed columns (`rowBefore`). */
const TASK_FIELDS = ['title', 'description', 'priority', 'assignee_id', 'due_date', 'position', 'deleted_at'] as const;
const shown = (field: string, column: SQLWrapper) => (field === 'priority' ? priorityName(column) : column);
const TASK_CREATED: AuditField[] = [...TASK_FIELDS.slice(0, 5), 'state_id'].map((field) => [
  field,
  null,
  shown(field, sql.identifier(field)),
]);
const TASK_CHANGED: AuditField[] = TASK_FIELDS.map((field) => [
  field,
  shown(field, sql.identifier(`old_${field}`)),
  shown(field, sql.identifier(field)),
]);
const TASK_TRANSITIONED: AuditField[] = [['state_id', sql.identifier('from_id'), sql.identifier('state_id')]];
/** For `rowBefore` and the RETURNING that passes them on: `old_title` and so on. */
const oldTaskFields = (source: (field: string) => SQLWrapper) =>
  Object.fromEntries(TASK_FIELDS.map((field) => [`old_${field}`, sql`${source(field)}`.as(`old_${field}`)]));

/** The audit rows of the tasks a statement wrote (`rows`, a CTE), one each. */
const auditedTasks = (rows: SQLWrapper, fields: AuditField[]) =>
  sql`select id as entity_id, project_id, ${changesOf(fields)} as changes from ${rows}`;

export interface NewTask {
  title: string;
  description?: string | null;
  state_id?: string;
  priority: TaskPriority;
  assignee_id?: string | null;
  due_date?: string | null;
}

/**
 * One statement: the project's task counter moves on only if the caller may create tasks there and the
 * state and assignee are valid, and the task takes its number; a refused create leaves no gap, and
 * concurrent creates queue on the counter row, so numbers go 1, 2, 3, ... The task starts at the end of its
 * state (its position key is its number) with its first history entries.
 */
export async function createTask(db: Database, caller: Caller, projectId: string, input: NewTask): Promise<TaskView> {
  const named = input.state_id !== undefined;
  const name = `create_task:${named ? 'state' : 'default'}`;
  const statement = prepared(db, name, () => {
    const counter = db.$with('counter').as(
      db
        .insert(projectTaskCounters)
        .select(
          subquery
            .select({ projectId: projects.id, lastNumber: sql<number>`1`.as('last_number') })
            .from(projects)
            .where(
              and(
                eq(projects.id, sql.placeholder('projectId')),
                isNull(projects.deletedAt),
                callerMayWrite('writeTasks'),
                sql`exists (${subquery
                  .select({ one: sql`1` })
                  .from(workflowStates)
                  .where(
                    and(
                      eq(workflowStates.projectId, projects.id),
                      eq(workflowStates.id, firstState(projects.id, named)),
                    ),
                  )})`,
                assigneeMayBe(projects.id),
              ),
            ),
        )
        .onConflictDoUpdate({
          target: projectTaskCounters.projectId,
          set: { lastNumber: sql`${projectTaskCounters.lastNumber} + 1` },
        })
        .returning({ projectId: projectTaskCounters.projectId, number: projectTaskCounters.lastNumber }),
    );
    const start = alias(workflowStates, 'start');
    const created = db.$with('created').as(
      db
        .insert(tasks)
        .select(
          subquery
            .select({
              id: sql<string>`gen_random_uuid()`.as('id'),
              projectId: counter.projectId,
              number: counter.number,
              title: sql<string>`${sql.placeholder('title')}`.as('title'),
              description: sql<string | null>`${sql.placeholder('description')}`.as('description'),
              stateId: start.id,
              priority: sql<number>`${sql.placeholder('priority')}::smallint`.as('priority'),
              assigneeId: sql<string | null>`${sql.placeholder('assigneeId')}::uuid`.as('assignee_id'),
              dueDate: sql<string | null>`${sql.placeholder('dueDate')}::date`.as('due_date'),
              position: sql<string>`lpad(${counter.number}::text, ${createdKey(1).length}, '0')`.as('position'),
              createdBy: sql<string>`${sql.placeholder('callerId')}::uuid`.as('created_by'),
              ...aliased(startingIn(start.category)),
              version: sql<number>`1`.as('version'),
              isActive: sql<boolean>`true`.as('is_active'),
              deletedAt: sql<Date | null>`null`.as('deleted_at'),
              createdAt: sql<Date>`now()`.as('created_at'),
              updatedAt: sql<Date>`now()`.as('updated_at'),
            })
            .from(counter)
            .innerJoin(start, eq(start.id, firstState(counter.projectId, named))),
        )
        .returning(),
    );
    const stateHistory = db
      .$with('state_history', {})
      .as(
        historyOf(
          sql`select id as task_id, null::uuid as from_id, state_id as to_id from ${created}`,
          'state',
          sql.placeholder('callerId'),
        ),
      );
    const assigneeHistory = db
      .$with('assignee_history', {})
      .as(
        historyOf(
          sql`select id as task_id, null::uuid as from_id, assignee_id as to_id from ${created} where assignee_id is not null`,
          'assignee',
          sql.placeholder('callerId'),
        ),
      );
    const audit = db.$with('audit', {}).as(auditOf('task.create', 'task', auditedTasks(created, TASK_CREATED)));
    return db
      .with(counter, created, stateHistory, assigneeHistory, audit)
      .select({ task: regroup(taskColumns, created), state: stateFields })
      .from(created)
      .innerJoin(workflowStates, eq(workflowStates.id, created.stateId))
      .prepare(name);
  });
  const [row] = await statement.execute({
    ...callerValues(caller),
    projectId,
    stateId: input.state_id,
    title: input.title,
    description: input.description ?? null,
    priority: TASK_PRIORITIES.indexOf(input.priority),
    assigneeId: input.assignee_id ?? null,
    dueDate: input.due_date ?? null,
  });
  if (row) return { ...row.task, state: row.state };
  throw await explainRefusedCreate(db, caller, projectId, input);
}

/** The started/completed/canceled timestamps as select fields of an insert-from-select. */
function aliased(timestamps: ReturnType<typeof startingIn>) {
  return {
    startedAt: sql<Date | null>`${timestamps.startedAt}`.as('started_at'),
    completedAt: sql<Date | null>`${timestamps.completedAt}`.as('completed_at'),
    canceledAt: sql<Date | null>`${timestamps.canceledAt}`.as('canceled_at'),
  };
}

async function explainRefusedCreate(
  db: Database,
  caller: Caller,
  projectId: string,
  input: NewTask,
): Promise<AppError> {
  const { project, standing } = await findProjectWithStanding(db, caller, projectId);
  if (!project || project.deletedAt !== null) return notFound('project');
  requireAccess(project, standing, 'writeTasks');
  if (input.state_id !== undefined) {
    const [state] = await db
      .select({ id: workflowStates.id })
      .from(workflowStates)
      .where(and(eq(workflowStates.id, input.state_id), eq(workflowStates.projectId, projectId)));
    if (!state) return validationFailed([{ path: 'body.state_id', message: 'is not a state of this project' }]);
  }
  if (input.assignee_id && !(await isActiveMember(db, projectId, input.assignee_id))) return invalidAssignee();
  return conflict('changed_meanwhile', 'the project changed while the request was processed; retry');
}

const invalidAssignee = () =>
  validationFailed([{ path: 'body.assignee_id', message: 'must be the owner or an active member of the project' }]);

async function isActiveMember(db: Database, projectId: string, userId: string): Promise<boolean> {
  const [member] = await db
    .select({ one: sql`1` })
    .from(projectMembers)
    .innerJoin(users, eq(users.id, projectMembers.userId))
    .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, userId), eq(users.isActive, true)));
  return member !== undefined;
}

/** The task as it was when the statement began, beside the row being updated: for a transition's `from`. */
const before = alias(tasks, 'before');

type TaskState = 'active' | 'deleted';

/** One kind of change to a task: one prepared statement per name and If-Match form. */
interface TaskMutation {
  name: string;
  action: ProjectAction;
  /** What the audit trail calls it. */
  audit: AuditAction;
  expectedState: TaskState;
  set: () => PgUpdateSetSource<typeof tasks>;
  values?: Record<string, unknown>;
  /** The change assigns the task: the assignee is checked and the assignment recorded. */
  assigns?: boolean;
}

/**
 * Every change but a transition: one conditional UPDATE (the caller's right, the project, the task's state
 * and If-Match in its WHERE), the assignment's history entry in the same statement.
 */
async function mutateTask(
  db: Database,
  caller: Caller,
  taskId: string,
  mutation: TaskMutation,
  precondition: Precondition | undefined,
): Promise<TaskView> {
  const { form, versions } = ifMatchValues(precondition);
  const name = `${mutation.name}:${form}`;
  const statement = prepared(db, name, () => {
    const old = rowBefore(tasks, eq(tasks.id, sql.placeholder('taskId')), {
      id: tasks.id,
      ...oldTaskFields((field) => sql.identifier(field)),
    });
    const changed = db.$with('changed').as(
      db
        .update(tasks)
        .set({ ...mutation.set(), version: sql`${tasks.version} + 1`, updatedAt: sql`now()` })
        .from(old)
        .where(
          and(
            eq(tasks.id, old.id),
            mutation.expectedState === 'active' ? isNull(tasks.deletedAt) : isNotNull(tasks.deletedAt),
            activeProjectOf(tasks.projectId),
            callerMayWrite(mutation.action, tasks.projectId),
            versionMatches(tasks.version, form),
            mutation.assigns ? assigneeMayBe(tasks.projectId) : undefined,
          ),
        )
        .returning({
          ...taskColumns,
          ...oldTaskFields((field) => sql`${sql.identifier('before')}.${sql.identifier(`old_${field}`)}`),
        }),
    );
    const history = db
      .$with('history', {})
      .as(
        historyOf(
          sql`select id as task_id, old_assignee_id as from_id, assignee_id as to_id from ${changed} where old_assignee_id is distinct from assignee_id`,
          'assignee',
          sql.placeholder('callerId'),
        ),
      );
    const audit = db.$with('audit', {}).as(auditOf(mutation.audit, 'task', auditedTasks(changed, TASK_CHANGED)));
    return db
      .with(changed, ...(mutation.assigns ? [history] : []), audit)
      .select({ task: regroup(taskColumns, changed), state: stateFields })
      .from(changed)
      .innerJoin(workflowStates, eq(workflowStates.id, changed.stateId))
      .prepare(name);
  });
  const [row] = await statement.execute({ ...mutation.values, ...callerValues(caller), taskId, versions });
  if (row) return { ...row.task, state: row.state };
  throw await explainRejectedTaskWrite(db, caller, taskId, mutation, precondition);
}

const activeProjectOf = (projectId: SQLWrapper) =>
  sql`exists (${subquery
    .select({ one: sql`1` })
    .from(projects)
    .where(and(eq(projects.id, projectId), isNull(projects.deletedAt)))})`;

async function explainRejectedTaskWrite(
  db: Database,
  caller: Caller,
  taskId: string,
  mutation: Pick<TaskMutation, 'action' | 'expectedState' | 'values' | 'assigns'>,
  precondition: Precondition | undefined,
): Promise<AppError> {
  const found = await findTaskWithStanding(db, caller, taskId);
  requireTaskAccess(found, mutation.action, mutation.expectedState === 'deleted' ? 'visible' : 'hidden');
  const { task } = found;
  if (mutation.expectedState === 'deleted' && task.deletedAt === null)
    return conflict('not_deleted', 'the task is not deleted');
  if (!preconditionHolds(precondition, task.version)) {
    return new AppError('precondition_failed', 'If-Match does not match the current version of the task', {
      headers: { ETag: etagFor(task.version) },
    });
  }
  const assigneeId = mutation.values?.assigneeId as string | null | undefined;
  if (mutation.assigns && assigneeId && !(await isActiveMember(db, task.projectId, assigneeId)))
    return invalidAssignee();
  return conflict('changed_meanwhile', 'the task changed while the request was processed; retry');
}

/** A value filled in when a prepared statement runs, where drizzle wants SQL rather than a placeholder. */
const slot = (name: string, cast = '') => sql`${sql.placeholder(name)}${sql.raw(cast)}`;

const FIELDS = {
  title: { column: 'title', value: (changes: TaskChanges) => changes.title, cast: '' },
  description: { column: 'description', value: (changes: TaskChanges) => changes.description, cast: '' },
  priority: {
    column: 'priority',
    value: (changes: TaskChanges) => changes.priority && TASK_PRIORITIES.indexOf(changes.priority),
    cast: '::smallint',
  },
  assignee_id: { column: 'assigneeId', value: (changes: TaskChanges) => changes.assignee_id, cast: '::uuid' },
  due_date: { column: 'dueDate', value: (changes: TaskChanges) => changes.due_date, cast: '::date' },
} as const;

/**
 * PATCH: the fields given, and a new place in the state when `before_id` or `after_id` is given. A move
 * locks the task's state row for the short transaction that reads the neighbours and writes the key, so
 * concurrent moves within a state take turns and never compute the same key from the same neighbours.
 */
export async function updateTask(
  db: Database,
  caller: Caller,
  taskId: string,
  changes: TaskChanges,
  precondition?: Precondition,
): Promise<TaskView> {
  const fields = (Object.keys(FIELDS) as (keyof typeof FIELDS)[]).filter((field) => changes[field] !== undefined);
  const values: Record<string, unknown> = Object.fromEntries(
    fields.map((field) => [FIELDS[field].column, FIELDS[field].value(changes)]),
  );
  const mutation = (moved: boolean): TaskMutation => ({
    name: `update_task:${fields.join(',')}${moved ? ':position' : ''}`,
    action: 'writeTasks',
    audit: 'task.update',
    expectedState: 'active',
    set: () => ({
      ...Object.fromEntries(
        fields.map((field) => [FIELDS[field].column, slot(FIELDS[field].column, FIELDS[field].cast)]),
      ),
      ...(moved ? { position: slot('position') } : {}),
    }),
    values,
    assigns: fields.includes('assignee_id'),
  });
  const anchorId = changes.before_id ?? changes.after_id;
  if (anchorId === undefined) return mutateTask(db, caller, taskId, mutation(false), precondition);

  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    const found = await findTaskWithStanding(tx, caller, taskId);
    requireTaskAccess(found, 'writeTasks', 'hidden');
    await tx
      .select({ id: workflowStates.id })
      .from(workflowStates)
      .where(eq(workflowStates.id, found.task.stateId))
      .for('no key update');
    // Read after the lock: a transition may have moved the task meanwhile.
    const [task] = await tx.select({ stateId: tasks.stateId }).from(tasks).where(eq(tasks.id, taskId));
    const [anchor] = await tx
      .select({ position: tasks.position, stateId: tasks.stateId, isActive: tasks.isActive })
      .from(tasks)
      .where(and(eq(tasks.id, anchorId), eq(tasks.projectId, found.task.projectId)));
    const anchorField = changes.before_id ? 'body.before_id' : 'body.after_id';
    if (!anchor || !anchor.isActive || anchor.stateId !== task!.stateId || anchorId === taskId) {
      throw validationFailed([{ path: anchorField, message: 'must be another task in the same state' }]);
    }
    const [neighbour] = await tx
      .select({ position: tasks.position })
      .from(tasks)
      .where(
        and(
          eq(tasks.stateId, anchor.stateId),
          eq(tasks.isActive, true),
          ne(tasks.id, taskId),
          changes.after_id ? gt(tasks.position, anchor.position) : lt(tasks.position, anchor.position),
        ),
      )
      .orderBy(changes.after_id ? asc(tasks.position) : desc(tasks.position))
      .limit(1);
    const position = changes.after_id
      ? keyBetween(anchor.position, neighbour?.position ?? null)
      : keyBetween(neighbour?.position ?? null, anchor.position);
    values.position =
      position.length > MAX_KEY_LENGTH ? await rebalanceState(tx, anchor.stateId, taskId, position) : position;
    return mutateTask(tx, caller, taskId, mutation(true), precondition);
  });
}

/**
 * Deals the active tasks of a state fresh keys in their order, the moved task placed at `movedKey` (its key
 * between its new neighbours, too long to keep): the smallest key's leading CREATED_KEY_LENGTH digits, then
 * the rank, zero-padded to one width, then 5 (keys never end in 0). All stay above that created key and
 * below the next, so later tasks still sort after them. Runs under the state's lock (updateTask); returns
 * the moved task's new key, which its own update writes with its audit event.
 */
async function rebalanceState(tx: Database, stateId: string, movedId: string, movedKey: string): Promise<string> {
  const key = sql`(case when ${tasks.id} = ${movedId} then ${movedKey} else ${tasks.position} end) collate "C"`;
  const ordered = tx.$with('ordered').as(
    tx
      .select({
        id: tasks.id,
        key: sql<string>`left(min(${key}) over (), ${CREATED_KEY_LENGTH}) || lpad((row_number() over (order by ${key}, ${tasks.number}))::text, length((count(*) over ())::text), '0') || '5'`.as(
          'key',
        ),
      })
      .from(tasks)
      .where(and(eq(tasks.stateId, stateId), eq(tasks.isActive, true))),
  );
  const others = tx.$with('others').as(
    tx
      .update(tasks)
      .set({ position: sql`${ordered.key}` })
      .from(ordered)
      .where(and(eq(tasks.id, ordered.id), ne(tasks.id, movedId))),
  );
  const [moved] = await tx
    .with(ordered, others)
    .select({ key: ordered.key })
    .from(ordered)
    .where(eq(ordered.id, movedId));
  return moved!.key;
}

const SOFT_DELETE: TaskMutation = {
  name: 'delete_task',
  action: 'writeTasks',
  audit: 'task.delete',
  expectedState: 'active',
  set: () => ({ isActive: false, deletedAt: sql`now()` }),
};
const RESTORE: TaskMutation = {
  name: 'restore_task',
  action: 'writeTasks',
  audit: 'task.restore',
  expectedState: 'deleted',
  set: () => ({ isActive: true, deletedAt: null }),
};

export const softDeleteTask = (db: Database, caller: Caller, taskId: string, precondition?: Precondition) =>
  mutateTask(db, caller, taskId, SOFT_DELETE, precondition);
export const restoreTask = (db: Database, caller: Caller, taskId: string, precondition?: Precondition) =>
  mutateTask(db, caller, taskId, RESTORE, precondition);

/**
 * POST /tasks/{id}/transition: the only way a task changes state. One statement: the target must be another
 * state of the task's project and an allowed move (every move, unless the project restricts them); the
 * timestamps follow the target's category (tasks.moves.ts) and the history entry is written beside it.
 */
export async function transitionTask(
  db: Database,
  caller: Caller,
  taskId: string,
  toStateId: string,
  precondition?: Precondition,
): Promise<TaskView> {
  const { form, versions } = ifMatchValues(precondition);
  const name = `transition_task:${form}`;
  const statement = prepared(db, name, () => {
    const target = alias(workflowStates, 'target');
    const moved = db.$with('moved').as(
      db
        .update(tasks)
        .set({
          stateId: sql`${target.id}`,
          ...enteringState(target.category),
          version: sql`${tasks.version} + 1`,
          updatedAt: sql`now()`,
        })
        .from(before)
        .innerJoin(target, eq(target.id, sql.placeholder('toStateId')))
        .where(
          and(
            eq(tasks.id, sql.placeholder('taskId')),
            eq(before.id, tasks.id),
            // From what the row still holds: a concurrent transition makes this one match nothing.
            eq(tasks.stateId, before.stateId),
            isNull(tasks.deletedAt),
            eq(target.projectId, tasks.projectId),
            ne(target.id, tasks.stateId),
            transitionAllowed(tasks.projectId, tasks.stateId, target.id),
            callerMayWrite('writeTasks', tasks.projectId),
            versionMatches(tasks.version, form),
          ),
        )
        .returning({ ...taskColumns, fromId: sql<string>`${before.stateId}`.as('from_id') }),
    );
    const history = db
      .$with('history', {})
      .as(
        historyOf(
          sql`select id as task_id, from_id, state_id as to_id from ${moved}`,
          'state',
          sql.placeholder('callerId'),
        ),
      );
    const audit = db.$with('audit', {}).as(auditOf('task.transition', 'task', auditedTasks(moved, TASK_TRANSITIONED)));
    return db
      .with(moved, history, audit)
      .select({ task: regroup(taskColumns, moved), state: stateFields })
      .from(moved)
      .innerJoin(workflowStates, eq(workflowStates.id, moved.stateId))
      .prepare(name);
  });
  const [row] = await statement.execute({ ...callerValues(caller), taskId, toStateId, versions });
  if (row) return { ...row.task, state: row.state };
  throw await explainRefusedTransition(db, caller, taskId, toStateId, precondition);
}

/** True when the project is active and allows the move: every move unless restricted, else the listed ones. */
const transitionAllowed = (projectId: SQLWrapper, fromStateId: SQLWrapper, toStateId: SQLWrapper) =>
  sql`exists (${subquery
    .select({ one: sql`1` })
    .from(projects)
    .where(
      and(
        eq(projects.id, projectId),
        isNull(projects.deletedAt),
        sql`(not ${projects.transitionsRestricted} or exists (${subquery
          .select({ one: sql`1` })
          .from(workflowTransitions)
          .where(
            and(eq(workflowTransitions.fromStateId, fromStateId), eq(workflowTransitions.toStateId, toStateId)),
          )}))`,
      ),
    )})`;

async function explainRefusedTransition(
  db: Database,
  caller: Caller,
  taskId: string,
  toStateId: string,
  precondition: Precondition | undefined,
): Promise<AppError> {
  const found = await findTaskWithStanding(db, caller, taskId);
  requireTaskAccess(found, 'writeTasks', 'hidden');
  const { task } = found;
  const [target] = await db
    .select({ id: workflowStates.id })
    .from(workflowStates)
    .where(and(eq(workflowStates.id, toStateId), eq(workflowStates.projectId, task.projectId)));
  if (!target)
    return validationFailed([{ path: 'body.to_state_id', message: "is not a state of this task's project" }]);
  if (toStateId === task.stateId) return conflict('already_in_state', 'the task is already in that state');
  if (!preconditionHolds(precondition, task.version)) {
    return new AppError('precondition_failed', 'If-Match does not match the current version of the task', {
      headers: { ETag: etagFor(task.version) },
    });
  }
  const allowed = await allowedTargets(db, task.projectId, task.stateId);
  if (!allowed.includes(toStateId)) {
    return new AppError('transition_not_allowed', 'this project does not allow that move; see allowed', {
      extensions: { allowed },
    });
  }
  return conflict('changed_meanwhile', 'the task changed while the request was processed; retry');
}

/** The states a task in `fromStateId` may move to. */
async function allowedTargets(db: Database, projectId: string, fromStateId: string): Promise<string[]> {
  const [project] = await db
    .select({ restricted: projects.transitionsRestricted })
    .from(projects)
    .where(eq(projects.id, projectId));
  const rows = project?.restricted
    ? await db
        .select({ id: workflowTransitions.toStateId })
        .from(workflowTransitions)
        .where(eq(workflowTransitions.fromStateId, fromStateId))
    : await db
        .select({ id: workflowStates.id })
        .from(workflowStates)
        .where(and(eq(workflowStates.projectId, projectId), ne(workflowStates.id, fromStateId)));
  return rows.map((row) => row.id).sort();
}
