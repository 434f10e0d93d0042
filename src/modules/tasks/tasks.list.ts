import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gte,
  ilike,
  isNull,
  lte,
  notInArray,
  sql,
  type SQL,
  type SQLWrapper,
} from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/client.ts';
import { FLAG, slots, statementFamily, type ShapeOf, type Slots } from '../../db/statements.ts';
import type { Caller } from '../../lib/actor.ts';
import {
  afterCursor,
  cappedCount,
  pageValues,
  pageWindow,
  regroup,
  sortKeyText,
  type PageValues,
} from '../../db/pagination.ts';
import {
  projectMembers,
  projects,
  TASK_PRIORITIES,
  taskEvents,
  tasks,
  users,
  workflowStates,
  type StateCategory,
  type TaskEventRow,
  type TaskPriority,
} from '../../db/schema.ts';
import { actorColumns, callerValues, isCaller, keyReaches, type CallerValues } from '../../db/users.ts';
import { toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { containsPattern } from '../../lib/sql.ts';
import { requireAccess } from '../projects/access.ts';
import { callerFrom, callerMembership, joinCallerMembership, standingOf } from '../projects/standing.ts';
import { TASK_SORTS, type TaskSort, type TaskView } from './tasks.schemas.ts';
import { findTaskWithStanding, requireTaskAccess, taskColumns } from './tasks.service.ts';

/*
 * Task lists, each one statement in the list contract (lib/pagination.ts): the caller's users row and
 * standing, LATERAL-joined with the page, and a count capped at COUNT_CAP. A project's tasks page by
 * number or position through (project_id, number) and (project_id, position, number); the caller's own
 * tasks through (assignee_id, created_at, id). Other sorts read every matching task.
 */

export interface TaskFilters {
  stateId?: string;
  category?: StateCategory;
  priority?: TaskPriority;
  dueBefore?: string;
  dueAfter?: string;
  q?: string;
  sort: TaskSort;
  page: PageRequest;
}

/** The sort column; a missing due date sorts after every real one. */
function sortColumn(sort: TaskSort): SQLWrapper {
  const field = sort.replace('-', '') as 'position' | 'priority' | 'due_date' | 'number' | 'created_at' | 'updated_at';
  if (field === 'due_date') return sql`coalesce(${tasks.dueDate}, 'infinity'::date)`;
  return {
    position: tasks.position,
    priority: tasks.priority,
    number: tasks.number,
    created_at: tasks.createdAt,
    updated_at: tasks.updatedAt,
  }[field];
}

/** What every task list's statements differ by: the sort, and which of the shared filters are given. */
const TASK_FILTERS = {
  sort: TASK_SORTS,
  state: FLAG,
  category: FLAG,
  priority: FLAG,
  due_before: FLAG,
  due_after: FLAG,
  q: FLAG,
  after: FLAG,
} as const;
type TaskFilterShape = ShapeOf<typeof TASK_FILTERS>;

const filterShape = (filters: TaskFilters): TaskFilterShape => ({
  sort: filters.sort,
  state: filters.stateId !== undefined,
  category: filters.category !== undefined,
  priority: filters.priority !== undefined,
  due_before: filters.dueBefore !== undefined,
  due_after: filters.dueAfter !== undefined,
  q: filters.q !== undefined,
  after: filters.page.after !== undefined,
});

const filterValues = (filters: TaskFilters) => ({
  stateId: filters.stateId,
  category: filters.category,
  priority: filters.priority === undefined ? undefined : TASK_PRIORITIES.indexOf(filters.priority),
  dueBefore: filters.dueBefore,
  dueAfter: filters.dueAfter,
  pattern: filters.q === undefined ? undefined : containsPattern(filters.q),
  ...pageValues(filters.page),
});
type FilterValues = ReturnType<typeof filterValues>;

/** The filters every task list shares, each a placeholder, in the statement only when its shape says given. */
function filterConditions(shape: TaskFilterShape, $: Slots<FilterValues>): (SQL | undefined)[] {
  return [
    shape.state ? eq(tasks.stateId, $.stateId) : undefined,
    shape.category ? eq(workflowStates.category, $.category) : undefined,
    shape.priority ? eq(tasks.priority, sql`${$.priority}::smallint`) : undefined,
    shape.due_before ? lte(tasks.dueDate, sql`${$.dueBefore}::date`) : undefined,
    shape.due_after ? gte(tasks.dueDate, sql`${$.dueAfter}::date`) : undefined,
    shape.q ? ilike(tasks.title, $.pattern) : undefined,
  ];
}

/** The page as a subquery: task columns flat, its state's name and category, and the sort key; `tieBreaker` keeps the order total. */
function taskPage(
  db: Database,
  where: SQL | undefined,
  shape: TaskFilterShape,
  tieBreaker: SQLWrapper,
  joins: (query: ReturnType<typeof baseTaskQuery>) => ReturnType<typeof baseTaskQuery> = (query) => query,
) {
  const column = sortColumn(shape.sort);
  const direction = shape.sort.startsWith('-') ? 'desc' : 'asc';
  const order = direction === 'desc' ? desc : asc;
  return pageWindow(
    joins(baseTaskQuery(db, column))
      .where(and(where, shape.after ? afterCursor(direction, column, tieBreaker) : undefined))
      .orderBy(order(column), order(tieBreaker)),
  ).as('page');
}

function baseTaskQuery(db: Database, column: SQLWrapper) {
  return db
    .select({
      ...taskColumns,
      stateName: workflowStates.name,
      stateCategory: workflowStates.category,
      sortKey: sortKeyText(column).as('sort_key'),
    })
    .from(tasks)
    .innerJoin(workflowStates, eq(workflowStates.id, tasks.stateId))
    .$dynamic();
}

type PageSubquery = ReturnType<typeof taskPage>;
const taskOf = (page: PageSubquery) => ({
  task: regroup(taskColumns, page),
  state: { id: page.stateId, name: page.stateName, category: page.stateCategory },
  sortKey: page.sortKey,
});

export interface ProjectTaskFilters extends TaskFilters {
  assignee?: 'me' | 'none' | string;
  includeDeleted?: boolean;
}

const PROJECT_TASKS = statementFamily(
  'project_tasks',
  { ...TASK_FILTERS, deleted: FLAG, assignee: ['any', 'none', 'me', 'user'] },
  slots<CallerValues & FilterValues & { projectId: string; assigneeId?: string }>(),
  (db, shape, $) => {
    const conditions = and(
      eq(tasks.projectId, $.projectId),
      shape.deleted ? undefined : eq(tasks.isActive, true),
      {
        any: undefined,
        none: isNull(tasks.assigneeId),
        me: eq(tasks.assigneeId, $.callerId),
        user: eq(tasks.assigneeId, $.assigneeId),
      }[shape.assignee],
      ...filterConditions(shape, $),
    );
    const page = taskPage(db, conditions, shape, tasks.number);
    const counted = db
      .select({ one: sql`1` })
      .from(tasks)
      .$dynamic();
    const count = cappedCount(
      (shape.category ? counted.innerJoin(workflowStates, eq(workflowStates.id, tasks.stateId)) : counted).where(
        conditions,
      ),
    );
    return db
      .select({
        actor: actorColumns,
        project: { id: projects.id, deletedAt: projects.deletedAt },
        membershipRole: callerMembership.role,
        ...taskOf(page),
        total: count,
      })
      .from(users)
      .leftJoin(projects, eq(projects.id, $.projectId))
      .leftJoin(callerMembership, joinCallerMembership())
      .leftJoinLateral(page, sql`true`)
      .where(isCaller($));
  },
);

/** GET /projects/{id}/tasks: any member; deleted tasks only for managers, owners and admins. */
export async function listProjectTasks(
  db: Database,
  caller: Caller,
  projectId: string,
  filters: ProjectTaskFilters,
): Promise<Page<TaskView>> {
  const assignee =
    filters.assignee === undefined
      ? 'any'
      : filters.assignee === 'none'
        ? 'none'
        : filters.assignee === 'me'
          ? 'me'
          : 'user';
  const shape = { ...filterShape(filters), deleted: filters.includeDeleted === true, assignee } as const;
  const rows = await PROJECT_TASKS.on(db, shape).execute({
    ...callerValues(caller),
    projectId,
    assigneeId: filters.assignee,
    ...filterValues(filters),
  });
  const first = rows[0];
  const standing = standingOf(callerFrom(caller, first?.actor), first?.membershipRole);
  requireAccess(first?.project, standing, filters.includeDeleted ? 'readDeletedTasks' : 'readTasks');
  return toTaskPage(rows, filters, 'project', (row) => String(row.task!.number));
}

/** A page of tasks from the statement's rows (a page with no task still has its one row: the caller, the count). */
function toTaskPage<Row extends { task: unknown; state: unknown; sortKey: string | null; total: number }>(
  rows: Row[],
  filters: TaskFilters,
  list: 'project' | 'mine',
  tie: (row: Row & { task: TaskView }) => string,
): Page<TaskView> {
  const listed = rows.filter((row) => row.task !== null) as (Row & { task: TaskView; state: TaskView['state'] })[];
  return toPage(listed, filters.page, {
    count: rows[0]?.total ?? 0,
    item: (row) => ({ ...row.task, state: row.state }),
    key: (row) => [row.sortKey!, tie(row)],
  });
}

export interface MyTaskFilters extends TaskFilters {
  projectId?: string;
}

const MY_TASKS = statementFamily(
  'my_tasks',
  { ...TASK_FILTERS, project: FLAG },
  slots<CallerValues & FilterValues & { projectId?: string }>(),
  (db, shape, $) => {
    const conditions = (caller: SQLWrapper) =>
      and(
        eq(tasks.assigneeId, caller),
        eq(tasks.isActive, true),
        notInArray(workflowStates.category, ['completed', 'canceled']),
        shape.project ? eq(tasks.projectId, $.projectId) : undefined,
        ...filterConditions(shape, $),
      );
    // Only projects the caller can still read: active, and a member (an assignee who leaves is unassigned anyway).
    const readable = <Query extends ReturnType<typeof baseTaskQuery>>(query: Query, caller: SQLWrapper) =>
      query
        .innerJoin(projects, and(eq(projects.id, tasks.projectId), isNull(projects.deletedAt)))
        .innerJoin(
          projectMembers,
          and(
            eq(projectMembers.projectId, tasks.projectId),
            eq(projectMembers.userId, caller),
            keyReaches(projectMembers.projectId),
          ),
        );
    const page = taskPage(db, conditions(users.id), shape, tasks.id, (query) => readable(query, users.id));
    const count = cappedCount(
      db
        .select({ one: sql`1` })
        .from(tasks)
        .innerJoin(workflowStates, eq(workflowStates.id, tasks.stateId))
        .innerJoin(projects, and(eq(projects.id, tasks.projectId), isNull(projects.deletedAt)))
        .innerJoin(
          projectMembers,
          and(
            eq(projectMembers.projectId, tasks.projectId),
            eq(projectMembers.userId, $.callerId),
            keyReaches(projectMembers.projectId),
          ),
        )
        .where(conditions($.callerId))
        .$dynamic(),
    );
    return db
      .select({ actor: actorColumns, ...taskOf(page), total: count })
      .from(users)
      .leftJoinLateral(page, sql`true`)
      .where(isCaller($));
  },
);

/** GET /tasks?assignee=me: the caller's open tasks (not completed or canceled) in every active project they belong to. */
export async function listMyTasks(db: Database, caller: Caller, filters: MyTaskFilters): Promise<Page<TaskView>> {
  const rows = await MY_TASKS.on(db, { ...filterShape(filters), project: filters.projectId !== undefined }).execute({
    ...callerValues(caller),
    projectId: filters.projectId,
    ...filterValues(filters),
  });
  callerFrom(caller, rows[0]?.actor);
  return toTaskPage(rows, filters, 'mine', (row) => row.task.id);
}

/** The task whose history a statement pages through, under its own name. */
const historyOf = alias(tasks, 'history_of');
const eventColumns = getTableColumns(taskEvents);

const TASK_HISTORY = statementFamily(
  'task_history',
  { after: FLAG },
  slots<PageValues & { taskId: string }>(),
  (db, shape, $) => {
    const page = pageWindow(
      db
        .select({ ...eventColumns, sortKey: sortKeyText(taskEvents.at).as('sort_key') })
        .from(taskEvents)
        .where(
          and(
            eq(taskEvents.taskId, historyOf.id),
            shape.after ? afterCursor('desc', taskEvents.at, taskEvents.id) : undefined,
          ),
        )
        .orderBy(desc(taskEvents.at), desc(taskEvents.id))
        .$dynamic(),
    ).as('page');
    const count = cappedCount(
      db
        .select({ one: sql`1` })
        .from(taskEvents)
        .where(eq(taskEvents.taskId, $.taskId))
        .$dynamic(),
    );
    return db
      .select({ event: regroup(eventColumns, page), sortKey: page.sortKey, total: count })
      .from(historyOf)
      .leftJoinLateral(page, sql`true`)
      .where(eq(historyOf.id, $.taskId));
  },
);

/** GET /tasks/{id}/history: newest first, for whoever may read the task. */
export async function listTaskHistory(
  db: Database,
  caller: Caller,
  taskId: string,
  pageRequest: PageRequest,
): Promise<Page<TaskEventRow>> {
  requireTaskAccess(await findTaskWithStanding(db, caller, taskId), 'readTasks', 'for managers');
  const rows = await TASK_HISTORY.on(db, { after: pageRequest.after !== undefined }).execute({
    taskId,
    ...pageValues(pageRequest),
  });
  return toPage(
    rows.filter((row) => row.event !== null),
    pageRequest,
    { count: rows[0]?.total ?? 0, item: (row) => row.event!, key: (row) => [row.sortKey!, String(row.event!.id)] },
  );
}
