import { eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { auditOf, changesOf } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { slots } from '../../db/statements.ts';
import { callerValues, type CallerValues } from '../../db/users.ts';
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

/** The task changes a statement made, as `historyOf` records them: expressions over `from`'s columns. */
export interface HistoryRows {
  from: SQLWrapper;
  taskId: SQLWrapper;
  fromId: SQLWrapper;
  toId: SQLWrapper;
  /** Only the rows where this holds (an assignment that changed). */
  where?: SQLWrapper;
}

/**
 * A history entry per row of `rows`, as a CTE of the changing statement. drizzle's insert-from-select
 * wants every column, the serial id included, so this one piece is written as SQL.
 */
export const historyOf = (kind: 'state' | 'assignee', actor: SQLWrapper, rows: HistoryRows): SQL =>
  sql`insert into ${taskEvents} (task_id, kind, from_id, to_id, actor_id)
      select ${rows.taskId}, ${kind}, ${rows.fromId}, ${rows.toId}, ${actor}::uuid
      from ${rows.from}${rows.where === undefined ? sql`` : sql` where ${rows.where}`}`;

const $ = slots<CallerValues>();

/**
 * Moves every task of one state to another (a state being deleted), each with its history entry and audit
 * event, in one statement, built per call inside the workflow's transaction.
 */
export async function moveTasksToStatePerCall(
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
        id: tasks.id,
        projectId: tasks.projectId,
        fromId: sql<string>`${move.fromStateId}::uuid`.as('from_id'),
        stateId: tasks.stateId,
      }),
  );
  const rows = { from: moved, taskId: moved.id, fromId: moved.fromId, toId: moved.stateId };
  const history = db.$with('history', {}).as(historyOf('state', $.callerId, rows));
  const audit = db.$with('audit', {}).as(
    auditOf($, 'task.transition', 'task', {
      from: moved,
      entityId: moved.id,
      projectId: moved.projectId,
      changes: changesOf([['state_id', moved.fromId, moved.stateId]]),
    }),
  );
  await db
    .with(moved, history, audit)
    .select({ moved: sql<number>`count(*)` })
    .from(moved)
    .execute(callerValues(caller));
}
