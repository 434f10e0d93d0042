import { eq, sql } from 'drizzle-orm';
import { prepared, type Database } from '../../db/client.ts';
import type { Caller } from '../../lib/actor.ts';
import { projects, TASK_PRIORITIES, tasks, users, workflowStates, type TaskPriority } from '../../db/schema.ts';
import { actorColumns, callerValues, isCaller } from '../../db/users.ts';
import type { Precondition } from '../../lib/etag.ts';
import { notFound } from '../../lib/problem.ts';
import { mayDo, requireAccess, type ProjectAction } from '../projects/access.ts';
import { callerFrom, callerMembership, joinCallerMembership, standingOf } from '../projects/standing.ts';
import { EDIT, EDIT_ASSIGNING, RESTORE } from './tasks.guards.ts';
import { positionBeside } from './tasks.reorder.ts';
import type { TaskChanges, TaskView } from './tasks.schemas.ts';
import { insertTask, moveTask, mutateTask, stateFields, type NewTask, type TaskMutation } from './tasks.writes.ts';

export { taskColumns, type NewTask } from './tasks.writes.ts';

/*
 * Tasks: every rule about who may do what comes from access.ts through the task's project. A read is one
 * statement that selects the caller's standing beside the task; a write is one guarded statement
 * (tasks.guards.ts declares the rules, tasks.writes.ts the statements), which answers its own refusal. Only
 * a manual reorder takes a short transaction (tasks.reorder.ts says why).
 */

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
      .where(isCaller),
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

export const createTask = (db: Database, caller: Caller, projectId: string, input: NewTask): Promise<TaskView> =>
  insertTask(db, caller, projectId, input);

/** A value filled in when a prepared statement runs, where drizzle wants SQL rather than a placeholder. */
const slot = (name: string, cast = '') => sql`${sql.placeholder(name)}${sql.raw(cast)}`;

const FIELDS = {
  title: { column: 'title', value: (changes: TaskChanges) => changes.title, cast: '' },
  description: { column: 'description', value: (changes: TaskChanges) => changes.description, cast: '' },
  priority: {
    column: 'priority',
    value: (changes: TaskChanges) => changes.priority && TASK_PRIORITIES.indexOf(changes.priority as TaskPriority),
    cast: '::smallint',
  },
  assignee_id: { column: 'assigneeId', value: (changes: TaskChanges) => changes.assignee_id, cast: '::uuid' },
  due_date: { column: 'dueDate', value: (changes: TaskChanges) => changes.due_date, cast: '::date' },
} as const;

/**
 * PATCH: the fields given, and a new place in the state when `before_id` or `after_id` is given: then the
 * key is worked out under the state's lock first (tasks.reorder.ts), in the transaction of the update.
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
  const assigns = fields.includes('assignee_id');
  const mutation = (moved: boolean): TaskMutation => ({
    name: `update_task:${fields.join(',')}${moved ? ':position' : ''}`,
    write: assigns ? EDIT_ASSIGNING : EDIT,
    audit: 'task.update',
    set: () => ({
      ...Object.fromEntries(
        fields.map((field) => [FIELDS[field].column, slot(FIELDS[field].column, FIELDS[field].cast)]),
      ),
      ...(moved ? { position: slot('position') } : {}),
    }),
    values,
    assigns,
  });
  const anchorId = changes.before_id ?? changes.after_id;
  if (anchorId === undefined) return mutateTask(db, caller, taskId, mutation(false), precondition);

  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    // Read access before taking the state's lock: a caller who may not write the task learns nothing of its neighbours.
    const found = await findTaskWithStanding(tx, caller, taskId);
    requireTaskAccess(found, 'writeTasks', 'hidden');
    const side = changes.before_id ? 'before' : 'after';
    values.position = await positionBeside(tx, found.task, { id: anchorId, side });
    return mutateTask(tx, caller, taskId, mutation(true), precondition);
  });
}

const SOFT_DELETE: TaskMutation = {
  name: 'delete_task',
  write: EDIT,
  audit: 'task.delete',
  set: () => ({ isActive: false, deletedAt: sql`now()` }),
};
const RESTORE_TASK: TaskMutation = {
  name: 'restore_task',
  write: RESTORE,
  audit: 'task.restore',
  set: () => ({ isActive: true, deletedAt: null }),
};

export const softDeleteTask = (db: Database, caller: Caller, taskId: string, precondition?: Precondition) =>
  mutateTask(db, caller, taskId, SOFT_DELETE, precondition);
export const restoreTask = (db: Database, caller: Caller, taskId: string, precondition?: Precondition) =>
  mutateTask(db, caller, taskId, RESTORE_TASK, precondition);

/** POST /tasks/{id}/transition: the only way a task changes state (tasks.writes.ts `moveTask`). */
export const transitionTask = (
  db: Database,
  caller: Caller,
  taskId: string,
  toStateId: string,
  precondition?: Precondition,
): Promise<TaskView> => moveTask(db, caller, taskId, toStateId, precondition);
