import { eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { auditOf, changesOf } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { callerValues } from '../../db/users.ts';
import type { Caller } from '../../lib/actor.ts';
import { taskEvents, tasks, type StateCategory, type WorkflowStateRow } from '../../db/schema.ts';

/*
 * How a task enters a state, written once: its timestamps follow the state's category, never its name
 * (renaming "Done" changes nothing), and every change of state or assignee leaves a history entry in the
 * same statement as the change.
 */

/** For an UPDATE moving tasks into a state of `category`: `started` sets started_at once; completed_at and canceled_at hold only while there. */
export const enteringState = (category: SQLWrapper | StateCategory) => ({
  startedAt: sql`case when ${category} = 'started' then coalesce(${tasks.startedAt}, now()) else ${tasks.startedAt} end`,
  completedAt: sql`case when ${category} = 'completed' then now() end`,
  canceledAt: sql`case when ${category} = 'canceled' then now() end`,
});

/** For an INSERT of a task whose first state has `category`. */
export const startingIn = (category: SQLWrapper) => ({
  startedAt: sql`case when ${category} = 'started' then now() end`,
  completedAt: sql`case when ${category} = 'completed' then now() end`,
  canceledAt: sql`case when ${category} = 'canceled' then now() end`,
});

/**
 * A history entry per row of `changes` (a select of task_id, from_id, to_id), as a CTE of the changing
 * statement. drizzle's insert-from-select wants every column, the serial id included, so this one piece is
 * written as SQL.
 */
export const historyOf = (changes: SQL, kind: 'state' | 'assignee', actor: SQLWrapper): SQL =>
  sql`insert into ${taskEvents} (task_id, kind, from_id, to_id, actor_id) select task_id, ${kind}, from_id, to_id, ${actor}::uuid from (${changes}) as changes`;

/** Moves every task of one state to another (a state being deleted), each with its history entry and audit event, in one statement. */
export async function moveTasksToState(
  db: Database,
  caller: Caller,
  move: { fromStateId: string; to: WorkflowStateRow },
): Promise<void> {
  const moved = db.$with('moved').as(
    db
      .update(tasks)
      .set({
        stateId: move.to.id,
        ...enteringState(move.to.category),
        version: sql`${tasks.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(eq(tasks.stateId, move.fromStateId))
      .returning({
        taskId: sql<string>`${tasks.id}`.as('task_id'),
        projectId: tasks.projectId,
        fromId: sql<string>`${move.fromStateId}::uuid`.as('from_id'),
        toId: sql<string>`${tasks.stateId}`.as('to_id'),
      }),
  );
  const history = db
    .$with('history', {})
    .as(historyOf(sql`select task_id, from_id, to_id from ${moved}`, 'state', sql.placeholder('callerId')));
  const audit = db
    .$with('audit', {})
    .as(
      auditOf(
        'task.transition',
        'task',
        sql`select task_id as entity_id, project_id, ${changesOf([['state_id', sql.identifier('from_id'), sql.identifier('to_id')]])} as changes from ${moved}`,
      ),
    );
  await db
    .with(moved, history, audit)
    .select({ moved: sql<number>`count(*)` })
    .from(moved)
    .execute(callerValues(caller));
}
