import { and, asc, desc, eq, getTableColumns, isNotNull, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { WithSubquery } from 'drizzle-orm/subquery';
import { QueryBuilder, type PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { auditOf, changesOf } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { lockedRow, oneRow, type GuardedWrite } from '../../db/guards.ts';
import { ifMatchValues, type IfMatchValues } from '../../db/if-match.ts';
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
import { FLAG, slots, statement, statementFamily, type Slots } from '../../db/statements.ts';
import { callerValues, isCaller, type CallerValues } from '../../db/users.ts';
import type { Caller } from '../../lib/actor.ts';
import type { Precondition } from '../../lib/etag.ts';
import { callerMembership, joinCallerMembership } from '../projects/standing.ts';
import {
  allowedTargets,
  CREATE_IN_FIRST_STATE,
  CREATE_IN_STATE,
  EDIT,
  EDIT_ASSIGNING,
  RESTORE,
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

/** The audited fields of a task: the audit trail's name of each, and its key among the task's columns. */
const TASK_FIELDS = {
  title: 'title',
  description: 'description',
  priority: 'priority',
  assignee_id: 'assigneeId',
  due_date: 'dueDate',
  position: 'position',
  deleted_at: 'deletedAt',
} as const satisfies Record<string, keyof typeof taskColumns>;
type TaskField = keyof typeof TASK_FIELDS;
/** The value each audited field had before a write: facts columns, carried on by the write's RETURNING. */
type OldTaskFields = { [Field in TaskField as `old_${Field}`]: SQL.Aliased<unknown> };

const shown = (field: TaskField, column: SQLWrapper) => (field === 'priority' ? priorityName(column) : column);
const auditedFields = Object.keys(TASK_FIELDS) as TaskField[];

/** `old_title` and so on, each the value `valueOf` gives for the field. */
const oldTaskFields = (valueOf: (field: TaskField) => SQLWrapper) =>
  Object.fromEntries(
    auditedFields.map((field) => [`old_${field}`, sql`${valueOf(field)}`.as(`old_${field}`)]),
  ) as OldTaskFields;

type WrittenTasks = WithSubquery & { [Key in keyof typeof taskColumns]: SQLWrapper };

/** The audit rows of the tasks a statement wrote (`rows`, a CTE of whole task rows), one each. */
const auditedTasks = (rows: WrittenTasks, changes: SQL) => ({
  from: rows,
  entityId: rows.id,
  projectId: rows.projectId,
  changes,
});
const createdChanges = (created: WrittenTasks) =>
  changesOf(
    (['title', 'description', 'priority', 'assignee_id', 'due_date', 'state_id'] as const).map((field) => [
      field,
      null,
      field === 'state_id' ? created.stateId : shown(field, created[TASK_FIELDS[field]]),
    ]),
  );
const changedChanges = (changed: WrittenTasks & OldTaskFields) =>
  changesOf(
    auditedFields.map((field) => [
      field,
      shown(field, changed[`old_${field}`]),
      shown(field, changed[TASK_FIELDS[field]]),
    ]),
  );

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

/** What a task write is executed with: the caller, and the values of the task's fields it sets. */
type TaskFieldValues = {
  title: string;
  description: string | null;
  priority: number;
  assigneeId: string | null;
  dueDate: string | null;
};
type CreateValues = CallerValues & TaskFieldValues & { projectId: string; stateId?: string };
type ChangeValues = CallerValues & IfMatchValues & { taskId: string };
type EditValues = ChangeValues & Partial<TaskFieldValues> & { position?: string };

/** The state a new task starts in: the one named, or the project's first unstarted state (backlog if none). */
const firstState = (named: boolean, $: Slots<CreateValues>) =>
  named
    ? sql`${$.stateId}::uuid`
    : sql`(${subquery
        .select({ id: workflowStates.id })
        .from(workflowStates)
        .where(
          and(eq(workflowStates.projectId, projects.id), sql`${workflowStates.category} in ('unstarted', 'backlog')`),
        )
        .orderBy(desc(sql`${workflowStates.category} = 'unstarted'`), asc(workflowStates.position))
        .limit(1)})`;

const CREATE_TASK = statementFamily(
  'create_task',
  { start: ['first', 'named'] },
  slots<CreateValues>(),
  (db, shape, $) => {
    const named = shape.start === 'named';
    const write = named ? CREATE_IN_STATE : CREATE_IN_FIRST_STATE;
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
        .leftJoin(projects, eq(projects.id, $.projectId))
        .leftJoin(users, isCaller($))
        .leftJoin(callerMembership, joinCallerMembership())
        .leftJoin(start, and(eq(start.projectId, projects.id), eq(start.id, firstState(named, $)))),
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
              title: sql<string>`${$.title}`.as('title'),
              description: sql<string | null>`${$.description}`.as('description'),
              stateId: sql<string>`${facts.startId}`.as('state_id'),
              priority: sql<number>`${$.priority}::smallint`.as('priority'),
              assigneeId: sql<string | null>`${$.assigneeId}::uuid`.as('assignee_id'),
              dueDate: sql<string | null>`${$.dueDate}::date`.as('due_date'),
              position: sql<string>`lpad(${counter.number}::text, ${createdKey(1).length}, '0')`.as('position'),
              createdBy: sql<string>`${$.callerId}::uuid`.as('created_by'),
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
    const stateHistory = db.$with('state_history', {}).as(
      historyOf('state', $.callerId, {
        from: created,
        taskId: created.id,
        fromId: sql`null::uuid`,
        toId: created.stateId,
      }),
    );
    const assigneeHistory = db.$with('assignee_history', {}).as(
      historyOf('assignee', $.callerId, {
        from: created,
        taskId: created.id,
        fromId: sql`null::uuid`,
        toId: created.assigneeId,
        where: isNotNull(created.assigneeId),
      }),
    );
    const audit = db
      .$with('audit', {})
      .as(auditOf($, 'task.create', 'task', auditedTasks(created, createdChanges(created))));
    return answer(db.with(facts, counter, created, stateHistory, assigneeHistory, audit), write, facts, created);
  },
);

/**
 * One statement: the project's task counter moves on only if every guard holds, and the task takes its
 * number; a refused create leaves no gap, and concurrent creates queue on the counter row, so numbers go
 * 1, 2, 3, ... The task starts at the end of its state (its position key is its number) with its first
 * history entries.
 */
export async function insertTask(db: Database, caller: Caller, projectId: string, input: NewTask): Promise<TaskView> {
  const named = input.state_id !== undefined;
  const write = named ? CREATE_IN_STATE : CREATE_IN_FIRST_STATE;
  const row = await write.run(
    CREATE_TASK.on(db, { start: named ? 'named' : 'first' }).execute({
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

/** The task's facts CTE: the task locked, its project, the caller and their membership, and `selection` more. */
const taskFacts = <Selection extends Parameters<GuardedWrite<TaskFacts>['facts']>[0]>(
  db: Database,
  $: Slots<ChangeValues>,
  write: GuardedWrite<TaskFacts>,
  selection: Selection,
) =>
  db
    .select(
      write.facts({
        // Named apart from the columns of `tasks`, which the UPDATE's RETURNING names unqualified.
        taskId: sql<string>`${tasks.id}`.as('task_id'),
        version: sql<number | null>`${tasks.version}`.as('current_version'),
        ...oldTaskFields((field) => tasks[TASK_FIELDS[field]]),
        ...selection,
      }),
    )
    .from(oneRow)
    .leftJoinLateral(lockedRow(tasks, eq(tasks.id, $.taskId)), sql`true`)
    .leftJoin(projects, eq(projects.id, tasks.projectId))
    .leftJoin(users, isCaller($))
    .leftJoin(callerMembership, joinCallerMembership(tasks.projectId));

/** One kind of change to a task other than a transition. */
interface TaskMutation {
  write: GuardedWrite<TaskFacts>;
  /** What the audit trail calls it. */
  audit: AuditAction;
  set: PgUpdateSetSource<typeof tasks>;
  /** The change may assign the task: the assignment is recorded in its history. */
  assigns: boolean;
}

/** Every change but a transition: one guarded UPDATE, the assignment's history entry in the same statement. */
function mutationStatement(db: Database, $: Slots<ChangeValues>, mutation: TaskMutation) {
  const { write } = mutation;
  const facts = db.$with('facts').as(taskFacts(db, $, write, noAllowed));
  const changed = db.$with('changed').as(
    db
      .update(tasks)
      .set({ ...mutation.set, version: sql`${tasks.version} + 1`, updatedAt: sql`now()` })
      .from(facts)
      .where(and(eq(tasks.id, facts.taskId), write.allHold(facts)))
      .returning({ ...taskColumns, ...oldTaskFields((field) => facts[`old_${field}`]) }),
  );
  const history = db.$with('history', {}).as(
    historyOf('assignee', $.callerId, {
      from: changed,
      taskId: changed.id,
      fromId: changed.old_assignee_id,
      toId: changed.assigneeId,
      where: sql`${changed.old_assignee_id} is distinct from ${changed.assigneeId}`,
    }),
  );
  const audit = db
    .$with('audit', {})
    .as(auditOf($, mutation.audit, 'task', auditedTasks(changed, changedChanges(changed))));
  return answer(db.with(facts, changed, ...(mutation.assigns ? [history] : []), audit), write, facts, changed);
}

/** The fields a PATCH may set, each a placeholder of its column's type. */
const EDITABLE = {
  title: { column: 'title', cast: '' },
  description: { column: 'description', cast: '' },
  priority: { column: 'priority', cast: '::smallint' },
  assignee_id: { column: 'assigneeId', cast: '::uuid' },
  due_date: { column: 'dueDate', cast: '::date' },
  position: { column: 'position', cast: '' },
} as const satisfies Record<string, { column: keyof EditValues & keyof typeof taskColumns; cast: string }>;
type Editable = keyof typeof EDITABLE;

const EDIT_TASK = statementFamily(
  'update_task',
  { title: FLAG, description: FLAG, priority: FLAG, assignee_id: FLAG, due_date: FLAG, position: FLAG },
  slots<EditValues>(),
  (db, shape, $) =>
    mutationStatement(db, $, {
      write: shape.assignee_id ? EDIT_ASSIGNING : EDIT,
      audit: 'task.update',
      set: Object.fromEntries(
        (Object.keys(EDITABLE) as Editable[])
          .filter((field) => shape[field])
          .map((field) => [EDITABLE[field].column, sql`${$[EDITABLE[field].column]}${sql.raw(EDITABLE[field].cast)}`]),
      ),
      assigns: shape.assignee_id,
    }),
);

/** The fields a PATCH sets, as EDIT_TASK takes them; undefined leaves a field as it is. */
export type TaskEdit = Partial<TaskFieldValues> & { position?: string };

/** PATCH /tasks/{id}: the fields `edit` gives, one guarded UPDATE of a shape per set of fields. */
export async function editTask(
  db: Database,
  caller: Caller,
  taskId: string,
  edit: TaskEdit,
  precondition: Precondition | undefined,
): Promise<TaskView> {
  const given = (field: Editable) => edit[EDITABLE[field].column] !== undefined;
  const shape = {
    title: given('title'),
    description: given('description'),
    priority: given('priority'),
    assignee_id: given('assignee_id'),
    due_date: given('due_date'),
    position: given('position'),
  };
  const write = shape.assignee_id ? EDIT_ASSIGNING : EDIT;
  const values = { ...edit, ...callerValues(caller), taskId, ...ifMatchValues(precondition) };
  const row = await write.run(EDIT_TASK.on(db, shape).execute(values));
  return write.outcome(asOutcome(row));
}

const changeOf = (name: string, mutation: TaskMutation) => ({
  write: mutation.write,
  statement: statement(name, slots<ChangeValues>(), (db, $) => mutationStatement(db, $, mutation)),
});
const SOFT_DELETE = changeOf('delete_task', {
  write: EDIT,
  audit: 'task.delete',
  set: { isActive: false, deletedAt: sql`now()` },
  assigns: false,
});
const RESTORE_TASK = changeOf('restore_task', {
  write: RESTORE,
  audit: 'task.restore',
  set: { isActive: true, deletedAt: null },
  assigns: false,
});

/** DELETE /tasks/{id} (soft) and POST /tasks/{id}/restore. */
export async function changeTask(
  db: Database,
  caller: Caller,
  taskId: string,
  change: 'delete' | 'restore',
  precondition: Precondition | undefined,
): Promise<TaskView> {
  const { write, statement: changing } = change === 'delete' ? SOFT_DELETE : RESTORE_TASK;
  const row = await write.run(
    changing.on(db).execute({ ...callerValues(caller), taskId, ...ifMatchValues(precondition) }),
  );
  return write.outcome(asOutcome(row));
}

const TRANSITION_TASK = statement('transition_task', slots<ChangeValues & { toStateId: string }>(), (db, $) => {
  const facts = db.$with('facts').as(
    taskFacts(db, $, TRANSITION, {
      fromId: sql<string>`${tasks.stateId}`.as('from_id'),
      targetId: sql<string>`${target.id}`.as('target_id'),
      targetCategory: sql<string>`${target.category}`.as('target_category'),
      allowed: allowedTargets.as('allowed'),
    }).leftJoin(target, and(eq(target.id, $.toStateId), eq(target.projectId, tasks.projectId))),
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
    .as(historyOf('state', $.callerId, { from: moved, taskId: moved.id, fromId: moved.fromId, toId: moved.stateId }));
  const changes = changesOf([['state_id', moved.fromId, moved.stateId]]);
  const audit = db.$with('audit', {}).as(auditOf($, 'task.transition', 'task', auditedTasks(moved, changes)));
  return answer(db.with(facts, moved, history, audit), TRANSITION, facts, moved);
});

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
  const row = await TRANSITION.run(
    TRANSITION_TASK.on(db).execute({ ...callerValues(caller), taskId, toStateId, ...ifMatchValues(precondition) }),
  );
  return TRANSITION.outcome(asOutcome(row));
}
