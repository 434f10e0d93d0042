import { and, eq, isNotNull, isNull, sql, type SQLWrapper } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import { guard, GuardedWrite } from '../../db/guards.ts';
import { versionGuard } from '../../db/if-match.ts';
import { slots } from '../../db/statements.ts';
import { projectMembers, projects, tasks, users, workflowStates, workflowTransitions } from '../../db/schema.ts';
import { AppError, conflict, notFound, validationFailed } from '../../lib/problem.ts';
import { callerGuards } from '../../db/users.ts';
import { accessGuards } from '../projects/standing.ts';

/*
 * The rules of every write to tasks, each declared once (db/guards.ts), in the order a refusal names them.
 * They read a facts CTE that joins the task (`tasks`, locked) or, for a create, its project (`projects`),
 * the caller's `users` row and `caller_membership`, and the states a write names (`target`, `start`).
 */

const subquery = new QueryBuilder();

/** What refusals read from the facts besides the guards' results: the task's version (ETag) and a transition's allowed targets. */
export interface TaskFacts {
  version: number | null;
  allowed: string[] | null;
}

/** The state a transition names, joined only when it belongs to the task's project. */
export const target = alias(workflowStates, 'target');
/** The state a new task starts in. */
export const start = alias(workflowStates, 'start');

const $ = slots<{ assigneeId: string | null }>();

/** The assignee must be the owner or a current member, and active; `null` (unassigned) always may. */
export const assigneeMayBe = (projectId: SQLWrapper) =>
  sql`(${$.assigneeId}::uuid is null or exists (${subquery
    .select({ one: sql`1` })
    .from(projectMembers)
    .innerJoin(users, eq(users.id, projectMembers.userId))
    .where(
      and(
        eq(projectMembers.projectId, projectId),
        eq(projectMembers.userId, sql`${$.assigneeId}::uuid`),
        eq(users.isActive, true),
      ),
    )}))`;

const assigneeIsMember = (projectId: SQLWrapper) =>
  guard<TaskFacts>('assignee_member', assigneeMayBe(projectId), () =>
    validationFailed([{ path: 'body.assignee_id', message: 'must be the owner or an active member of the project' }]),
  );

const activeProject = sql`(${projects.id} is not null and ${projects.deletedAt} is null)`;

/** Creating a task in a project: the state named (`state_id`), or the project's default first state. */
const createGuards = (named: boolean) =>
  new GuardedWrite<TaskFacts>(
    ...callerGuards<TaskFacts>(),
    ...accessGuards<TaskFacts>('writeTasks', activeProject, 'project'),
    named
      ? guard<TaskFacts>('start_state_known', isNotNull(start.id), () =>
          validationFailed([{ path: 'body.state_id', message: 'is not a state of this project' }]),
        )
      : guard<TaskFacts>('start_state_known', isNotNull(start.id), () =>
          conflict('workflow_incomplete', 'the project has no unstarted or backlog state to start a task in'),
        ),
    assigneeIsMember(projects.id),
  );
export const CREATE_IN_STATE = createGuards(true);
export const CREATE_IN_FIRST_STATE = createGuards(false);

/** The task exists in an active project and the caller may write tasks there (404, then 403). */
const writableTask = [
  ...callerGuards<TaskFacts>(),
  ...accessGuards<TaskFacts>('writeTasks', sql`(${tasks.id} is not null and ${activeProject})`, 'task'),
];
const taskActive = guard<TaskFacts>('task_active', isNull(tasks.deletedAt), () => notFound('task'));
const taskVersion = versionGuard<TaskFacts>(tasks.version, 'task');

/** Editing, deleting: an active task, at the version If-Match names. */
export const EDIT = new GuardedWrite<TaskFacts>(...writableTask, taskActive, taskVersion);
/** Editing with a new assignee, who must be able to hold it. */
export const EDIT_ASSIGNING = new GuardedWrite<TaskFacts>(
  ...writableTask,
  taskActive,
  taskVersion,
  assigneeIsMember(tasks.projectId),
);
export const RESTORE = new GuardedWrite<TaskFacts>(
  ...writableTask,
  guard<TaskFacts>('task_deleted', isNotNull(tasks.deletedAt), () =>
    conflict('not_deleted', 'the task is not deleted'),
  ),
  taskVersion,
);

/** The move is allowed: every move unless the project restricts them, else only the listed ones. */
export const transitionAllowed = sql`(not ${projects.transitionsRestricted} or exists (${subquery
  .select({ one: sql`1` })
  .from(workflowTransitions)
  .where(and(eq(workflowTransitions.fromStateId, tasks.stateId), eq(workflowTransitions.toStateId, target.id)))}))`;

export const TRANSITION = new GuardedWrite<TaskFacts>(
  ...writableTask,
  taskActive,
  guard<TaskFacts>('target_known', isNotNull(target.id), () =>
    validationFailed([{ path: 'body.to_state_id', message: "is not a state of this task's project" }]),
  ),
  guard<TaskFacts>('target_differs', sql`${target.id} <> ${tasks.stateId}`, () =>
    conflict('already_in_state', 'the task is already in that state'),
  ),
  taskVersion,
  guard<TaskFacts>(
    'transition_allowed',
    transitionAllowed,
    (facts) =>
      new AppError('transition_not_allowed', 'this project does not allow that move; see allowed', {
        extensions: { allowed: facts.allowed ?? [] },
      }),
  ),
);

/**
 * For a transition's facts: the states the task may move to, read only when the move is not allowed (the
 * 409 lists them): the listed moves from its state when the project restricts them, else every other state.
 */
export const allowedTargets = sql<string[] | null>`case when not ${transitionAllowed} then (
  select coalesce(jsonb_agg(allowed.id order by allowed.id), '[]'::jsonb)
  from (
    select ${workflowTransitions.toStateId} as id from ${workflowTransitions}
    where ${projects.transitionsRestricted} and ${workflowTransitions.fromStateId} = ${tasks.stateId}
    union all
    select ${workflowStates.id} from ${workflowStates}
    where not ${projects.transitionsRestricted}
      and ${workflowStates.projectId} = ${tasks.projectId} and ${workflowStates.id} <> ${tasks.stateId}
  ) as allowed
) end`;
