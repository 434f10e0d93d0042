import { and, asc, desc, eq, getTableColumns, sql, type SQLWrapper } from 'drizzle-orm';
import type { WithSubquery } from 'drizzle-orm/subquery';
import { QueryBuilder, type PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { auditOf, changesOf, type AuditField } from '../../db/audit.ts';
import { prepared, type Database } from '../../db/client.ts';
import { lockedRow, oneRow, type GuardedWrite } from '../../db/guards.ts';
import { ifMatchValues } from '../../db/if-match.ts';
import { regroup } from '../../db/pagination.ts';
import {
  projects,
  projectTaskCounters,
  TASK_PRIORITIES,
  tasks,
  users,
  workflowStates,
  type AuditAction,
  type TaskPriority,
} from '../../db/schema.ts';
import { callerValues, isCaller } from '../../db/users.ts';
import type { Caller } from '../../lib/actor.ts';
import type { Precondition } from '../../lib/etag.ts';
import { callerMembership, joinCallerMembership } from '../projects/standing.ts';
import {
  allowedTargets,
  CREATE_IN_FIRST_STATE,
  CREATE_IN_STATE,
  start,
  target,
  TRANSITION,
  type TaskFacts,
} from './tasks.guards.ts';
import { enteringState, historyOf, startingIn } from './tasks.moves.ts';
import { createdKey } from './tasks.position.ts';
import type { TaskView } from './tasks.schemas.ts';

/*
 * The statements that write tasks, one each, guarded (db/guards.ts, tasks.guards.ts): a facts CTE judges
 * the rules over the locked task (or the project, for a create), the write happens only if all hold, and
 * the task's history entries and audit event are written beside it. A refusal costs the same one statement.
 */

const subquery = new QueryBuilder();
export const taskColumns = getTableColumns(tasks);
/** The state a task is in, as responses show it. */
export const stateFields = { id: workflowStates.id, name: workflowStates.name, category: workflowStates.category };

/** A task's priority by name, as the API and the audit trail show it (stored as its TASK_PRIORITIES index). */
const priorityName = (column: SQLWrapper) =>
  sql`(${sql.raw(`array[${TASK_PRIORITIES.map((name) => `'${name}'`).join(', ')}]`)})[${column} + 1]`;

/** The audited fields of a task (its columns' names); the facts hold the values they had as `old_title` and so on. */
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
/** `old_title` and so on, each read from `source`: the locked task in the facts, the facts in a RETURNING. */
const oldTaskFields = (source: string) =>
  Object.fromEntries(
    TASK_FIELDS.map((field) => [
      `old_${field}`,
      sql`${sql.identifier(source)}.${sql.identifier(source === 'tasks' ? field : `old_${field}`)}`.as(`old_${field}`),
    ]),
  );

/** The audit rows of the tasks a statement wrote (`rows`, a CTE), one each. */
const auditedTasks = (rows: SQLWrapper, fields: AuditField[]) =>
  sql`select id as entity_id, project_id, ${changesOf(fields)} as changes from ${rows}`;

/**
 * The answer of every task write, one row: each guard's result, the facts a refusal reads, and the task the
 * write left in `written` (a CTE of whole task rows; null when it wrote nothing) with its state.
 */
const answer = (
  query: ReturnType<Database['with']>,
  write: GuardedWrite<TaskFacts>,
  facts: WithSubquery & { version: SQLWrapper; allowed: SQLWrapper } & Record<string, unknown>,
  written: WithSubquery & { [Key in keyof typeof taskColumns]: unknown } & { stateId: SQLWrapper },
) =>
  query
    .select({
      guards: write.results(facts),
      facts: { version: sql<number | null>`${facts.version}`, allowed: sql<string[] | null>`${facts.allowed}` },
      task: regroup(taskColumns, written),
      state: stateFields,
    })
    .from(facts)
    .leftJoin(written, sql`true`)
    .leftJoin(workflowStates, eq(workflowStates.id, written.stateId));

/** The statement's one row as GuardedWrite.outcome takes it: the task written, with its state, or null. */
const asOutcome = (row: {
  guards: Record<string, boolean>;
  facts: TaskFacts;
  task: Omit<TaskView, 'state'> | null;
  state: TaskView['state'] | null;
}) => ({ guards: row.guards, facts: row.facts, written: row.task && { ...row.task, state: row.state! } });

/** The facts a refusal reads that a statement does not compute. */
const noAllowed = { allowed: sql<string[] | null>`null::jsonb`.as('allowed') };

export interface NewTask {
  title: string;
  description?: string | null;
  state_id?: string;
  priority: TaskPriority;
  assignee_id?: string | null;
  due_date?: string | null;
}

/** The state a new task starts in: the one named, or the project's first unstarted state (backlog if none). */
const firstState = (named: boolean) =>
  named
    ? sql`${sql.placeholder('stateId')}::uuid`
    : sql`(${subquery
        .select({ id: workflowStates.id })
        .from(workflowStates)
        .where(
          and(eq(workflowStates.projectId, projects.id), sql`${workflowStates.category} in ('unstarted', 'backlog')`),
        )
        .orderBy(desc(sql`${workflowStates.category} = 'unstarted'`), asc(workflowStates.position))
        .limit(1)})`;

/**
 * One statement: the project's task counter moves on only if every guard holds, and the task takes its
 * number; a refused create leaves no gap, and concurrent creates queue on the counter row, so numbers go
 * 1, 2, 3, ... The task starts at the end of its state (its position key is its number) with its first
 * history entries.
 */
export async function insertTask(db: Database, caller: Caller, projectId: string, input: NewTask): Promise<TaskView> {
  const named = input.state_id !== undefined;
  const write = named ? CREATE_IN_STATE : CREATE_IN_FIRST_STATE;
  const name = `create_task:${named ? 'state' : 'default'}`;
  const statement = prepared(db, name, () => {
    const facts = db.$with('facts').as(
      db
        .select(
          write.facts({
            projectId: sql<string>`${projects.id}`.as('project_id'),
            startId: sql<string>`${start.id}`.as('start_id'),
            startCategory: sql<string>`${start.category}`.as('start_category'),
            version: sql<number | null>`null`.as('current_version'),
            ...noAllowed,
          }),
        )
        .from(oneRow)
        .leftJoin(projects, eq(projects.id, sql.placeholder('projectId')))
        .leftJoin(users, isCaller)
        .leftJoin(callerMembership, joinCallerMembership())
        .leftJoin(start, and(eq(start.projectId, projects.id), eq(start.id, firstState(named)))),
    );
    const counter = db.$with('counter').as(
      db
        .insert(projectTaskCounters)
        .select(
          subquery
            .select({ projectId: facts.projectId, lastNumber: sql<number>`1`.as('last_number') })
            .from(facts)
            .where(write.allHold(facts)),
        )
        .onConflictDoUpdate({
          target: projectTaskCounters.projectId,
          set: { lastNumber: sql`${projectTaskCounters.lastNumber} + 1` },
        })
        .returning({ projectId: projectTaskCounters.projectId, number: projectTaskCounters.lastNumber }),
    );
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
              stateId: sql<string>`${facts.startId}`.as('state_id'),
              priority: sql<number>`${sql.placeholder('priority')}::smallint`.as('priority'),
              assigneeId: sql<string | null>`${sql.placeholder('assigneeId')}::uuid`.as('assignee_id'),
              dueDate: sql<string | null>`${sql.placeholder('dueDate')}::date`.as('due_date'),
              position: sql<string>`lpad(${counter.number}::text, ${createdKey(1).length}, '0')`.as('position'),
              createdBy: sql<string>`${sql.placeholder('callerId')}::uuid`.as('created_by'),
              ...aliased(startingIn(facts.startCategory)),
              version: sql<number>`1`.as('version'),
              isActive: sql<boolean>`true`.as('is_active'),
              deletedAt: sql<Date | null>`null`.as('deleted_at'),
              createdAt: sql<Date>`now()`.as('created_at'),
              updatedAt: sql<Date>`now()`.as('updated_at'),
            })
            .from(counter)
            .innerJoin(facts, sql`true`),
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
    const assigneeHistory = db.$with('assignee_history', {}).as(
      historyOf(
        sql`select id as task_id, null::uuid as from_id, assignee_id as to_id
            from ${created} where assignee_id is not null`,
        'assignee',
        sql.placeholder('callerId'),
      ),
    );
    const audit = db.$with('audit', {}).as(auditOf('task.create', 'task', auditedTasks(created, TASK_CREATED)));
    return answer(db.with(facts, counter, created, stateHistory, assigneeHistory, audit), write, facts, created);
  });
  const row = await write.run(
    statement.execute({
      ...callerValues(caller),
      projectId,
      stateId: input.state_id,
      title: input.title,
      description: input.description ?? null,
      priority: TASK_PRIORITIES.indexOf(input.priority),
      assigneeId: input.assignee_id ?? null,
      dueDate: input.due_date ?? null,
    }),
  );
  return write.outcome(asOutcome(row));
}

/** The started/completed/canceled timestamps as select fields of an insert-from-select. */
function aliased(timestamps: ReturnType<typeof startingIn>) {
  return {
    startedAt: sql<Date | null>`${timestamps.startedAt}`.as('started_at'),
    completedAt: sql<Date | null>`${timestamps.completedAt}`.as('completed_at'),
    canceledAt: sql<Date | null>`${timestamps.canceledAt}`.as('canceled_at'),
  };
}

/** The task's facts CTE: the task locked, its project, the caller and their membership, and `joins` more. */
const taskFacts = <Selection extends Parameters<GuardedWrite<TaskFacts>['facts']>[0]>(
  db: Database,
  write: GuardedWrite<TaskFacts>,
  selection: Selection,
) =>
  db
    .select(
      write.facts({
        // Named apart from the columns of `tasks`, which the UPDATE's RETURNING names unqualified.
        taskId: sql<string>`${tasks.id}`.as('task_id'),
        version: sql<number | null>`${tasks.version}`.as('current_version'),
        ...oldTaskFields('tasks'),
        ...selection,
      }),
    )
    .from(oneRow)
    .leftJoinLateral(lockedRow(tasks, eq(tasks.id, sql.placeholder('taskId'))), sql`true`)
    .leftJoin(projects, eq(projects.id, tasks.projectId))
    .leftJoin(users, isCaller)
    .leftJoin(callerMembership, joinCallerMembership(tasks.projectId));

/** One kind of change to a task other than a transition: one prepared statement per name. */
export interface TaskMutation {
  name: string;
  write: GuardedWrite<TaskFacts>;
  /** What the audit trail calls it. */
  audit: AuditAction;
  set: () => PgUpdateSetSource<typeof tasks>;
  values?: Record<string, unknown>;
  /** The change may assign the task: the assignment is recorded in its history. */
  assigns?: boolean;
}

/** Every change but a transition: one guarded UPDATE, the assignment's history entry in the same statement. */
export async function mutateTask(
  db: Database,
  caller: Caller,
  taskId: string,
  mutation: TaskMutation,
  precondition: Precondition | undefined,
): Promise<TaskView> {
  const { write } = mutation;
  const statement = prepared(db, mutation.name, () => {
    const facts = db.$with('facts').as(taskFacts(db, write, noAllowed));
    const changed = db.$with('changed').as(
      db
        .update(tasks)
        .set({ ...mutation.set(), version: sql`${tasks.version} + 1`, updatedAt: sql`now()` })
        .from(facts)
        .where(and(eq(tasks.id, facts.taskId), write.allHold(facts)))
        .returning({ ...taskColumns, ...oldTaskFields('facts') }),
    );
    const history = db.$with('history', {}).as(
      historyOf(
        sql`select id as task_id, old_assignee_id as from_id, assignee_id as to_id
            from ${changed} where old_assignee_id is distinct from assignee_id`,
        'assignee',
        sql.placeholder('callerId'),
      ),
    );
    const audit = db.$with('audit', {}).as(auditOf(mutation.audit, 'task', auditedTasks(changed, TASK_CHANGED)));
    return answer(db.with(facts, changed, ...(mutation.assigns ? [history] : []), audit), write, facts, changed);
  });
  const row = await write.run(
    statement.execute({ ...mutation.values, ...callerValues(caller), taskId, ...ifMatchValues(precondition) }),
  );
  return write.outcome(asOutcome(row));
}

/**
 * POST /tasks/{id}/transition: the only way a task changes state. One statement: the target must be another
 * state of the task's project and an allowed move (tasks.guards.ts); the timestamps follow the target's
 * category (tasks.moves.ts) and the history entry is written beside it.
 */
export async function moveTask(
  db: Database,
  caller: Caller,
  taskId: string,
  toStateId: string,
  precondition: Precondition | undefined,
): Promise<TaskView> {
  const statement = prepared(db, 'transition_task', () => {
    const facts = db.$with('facts').as(
      taskFacts(db, TRANSITION, {
        fromId: sql<string>`${tasks.stateId}`.as('from_id'),
        targetId: sql<string>`${target.id}`.as('target_id'),
        targetCategory: sql<string>`${target.category}`.as('target_category'),
        allowed: allowedTargets.as('allowed'),
      }).leftJoin(target, and(eq(target.id, sql.placeholder('toStateId')), eq(target.projectId, tasks.projectId))),
    );
    const moved = db.$with('moved').as(
      db
        .update(tasks)
        .set({
          stateId: sql`${facts.targetId}`,
          ...enteringState(facts.targetCategory),
          version: sql`${tasks.version} + 1`,
          updatedAt: sql`now()`,
        })
        .from(facts)
        .where(and(eq(tasks.id, facts.taskId), TRANSITION.allHold(facts)))
        .returning({ ...taskColumns, fromId: sql<string>`${facts.fromId}`.as('from_id') }),
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
    return answer(db.with(facts, moved, history, audit), TRANSITION, facts, moved);
  });
  const row = await TRANSITION.run(
    statement.execute({ ...callerValues(caller), taskId, toStateId, ...ifMatchValues(precondition) }),
  );
  return TRANSITION.outcome(asOutcome(row));
}
