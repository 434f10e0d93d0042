import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { slots, statement } from '../../db/statements.ts';
import type { Caller } from '../../lib/actor.ts';
import { projects, TASK_PRIORITIES, tasks, users, workflowStates, type TaskPriority } from '../../db/schema.ts';
import { actorColumns, callerValues, isCaller, type CallerValues } from '../../db/users.ts';
import type { Precondition } from '../../lib/etag.ts';
import { notFound } from '../../lib/problem.ts';
import { mayDo, requireAccess, type ProjectAction } from '../projects/access.ts';
import { callerFrom, callerMembership, joinCallerMembership, standingOf } from '../projects/standing.ts';
import { positionBesidePerCall } from './tasks.reorder.ts';
import type { TaskChanges, TaskView } from './tasks.schemas.ts';
import {
  changeTask,
  editTask,
  insertTask,
  moveTask,
  stateFields,
  type NewTask,
  type TaskEdit,
} from './tasks.writes.ts';

export { taskColumns, type NewTask } from './tasks.writes.ts';

/*
 * Tasks: every rule about who may do what comes from access.ts through the task's project. A read is one
 * statement that selects the caller's standing beside the task; a write is one guarded statement
 * (tasks.guards.ts declares the rules, tasks.writes.ts the statements), which answers its own refusal. Only
 * a manual reorder takes a short transaction (tasks.reorder.ts says why).
 */

const TASK_WITH_STANDING = statement('task_with_standing', slots<CallerValues & { taskId: string }>(), (db, $) =>
  db
    .select({
      actor: actorColumns,
      task: tasks,
      state: stateFields,
      project: { id: projects.id, deletedAt: projects.deletedAt },
      membershipRole: callerMembership.role,
    })
    .from(users)
    .leftJoin(tasks, eq(tasks.id, $.taskId))
    .leftJoin(projects, eq(projects.id, tasks.projectId))
    .leftJoin(callerMembership, joinCallerMembership())
    .leftJoin(workflowStates, eq(workflowStates.id, tasks.stateId))
    .where(isCaller($)),
);

/** One task (deleted or not), its state and project, and the caller's standing there, in one statement. */
export async function findTaskWithStanding(db: Database, caller: Caller, taskId: string) {
  const [row] = await TASK_WITH_STANDING.on(db).execute({ ...callerValues(caller), taskId });
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
  const edit: TaskEdit = {
    title: changes.title,
    description: changes.description,
    priority: changes.priority && TASK_PRIORITIES.indexOf(changes.priority as TaskPriority),
    assigneeId: changes.assignee_id,
    dueDate: changes.due_date,
  };
  const anchorId = changes.before_id ?? changes.after_id;
  if (anchorId === undefined) return editTask(db, caller, taskId, edit, precondition);

  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    // Read access before taking the state's lock: a caller who may not write the task learns nothing of its neighbours.
    const found = await findTaskWithStanding(tx, caller, taskId);
    requireTaskAccess(found, 'writeTasks', 'hidden');
    const side = changes.before_id ? 'before' : 'after';
    const position = await positionBesidePerCall(tx, found.task, { id: anchorId, side });
    return editTask(tx, caller, taskId, { ...edit, position }, precondition);
  });
}

export const softDeleteTask = (db: Database, caller: Caller, taskId: string, precondition?: Precondition) =>
  changeTask(db, caller, taskId, 'delete', precondition);
export const restoreTask = (db: Database, caller: Caller, taskId: string, precondition?: Precondition) =>
  changeTask(db, caller, taskId, 'restore', precondition);

/** POST /tasks/{id}/transition: the only way a task changes state (tasks.writes.ts `moveTask`). */
export const transitionTask = (
  db: Database,
  caller: Caller,
  taskId: string,
  toStateId: string,
  precondition?: Precondition,
): Promise<TaskView> => moveTask(db, caller, taskId, toStateId, precondition);
