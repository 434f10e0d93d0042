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
import { prepared, type Database } from '../../db/client.ts';
import type { Caller } from '../../lib/actor.ts';
import { afterCursor, cappedCount, pageValues, pageWindow, regroup, sortKeyText } from '../../db/pagination.ts';
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
import { actorColumns, callerValues, isCaller } from '../../db/users.ts';
import { toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { containsPattern } from '../../lib/sql.ts';
import { requireAccess } from '../projects/access.ts';
import { callerFrom, callerMembership, joinCallerMembership, standingOf } from '../projects/standing.ts';
import { type TaskSort, type TaskView } from './tasks.schemas.ts';
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

/** The filters every task list shares; values are placeholders, present in the statement's shape only when given. */
function filterConditions(filters: TaskFilters): (SQL | undefined)[] {
  return [
    filters.stateId === undefined ? undefined : eq(tasks.stateId, sql.placeholder('stateId')),
    filters.category === undefined ? undefined : eq(workflowStates.category, sql.placeholder('category')),
    filters.priority === undefined ? undefined : eq(tasks.priority, sql`${sql.placeholder('priority')}::smallint`),
    filters.dueBefore === undefined ? undefined : lte(tasks.dueDate, sql`${sql.placeholder('dueBefore')}::date`),
    filters.dueAfter === undefined ? undefined : gte(tasks.dueDate, sql`${sql.placeholder('dueAfter')}::date`),
    filters.q === undefined ? undefined : ilike(tasks.title, sql.placeholder('pattern')),
  ];
}

const filterValues = (filters: TaskFilters) => ({
  stateId: filters.stateId,
  category: filters.category,
  priority: filters.priority === undefined ? undefined : TASK_PRIORITIES.indexOf(filters.priority),
  dueBefore: filters.dueBefore,
  dueAfter: filters.dueAfter,
  pattern: filters.q === undefined ? undefined : containsPattern(filters.q),
  ...pageValues(filters.page),
});

const shapeOf = (filters: TaskFilters, extra: unknown[]) =>
  [
    filters.sort,
    ...[
      filters.stateId,
      filters.category,
      filters.priority,
      filters.dueBefore,
      filters.dueAfter,
      filters.q,
      filters.page.after,
      ...extra,
    ].map((value) => (value === undefined ? 0 : 1)),
  ].join(':');

/** The page as a subquery: task columns flat, its state's name and category, and the sort key; `tieBreaker` keeps the order total. */
function taskPage(
  db: Database,
  where: SQL | undefined,
  filters: TaskFilters,
  tieBreaker: SQLWrapper,
  joins: (query: ReturnType<typeof baseTaskQuery>) => ReturnType<typeof baseTaskQuery> = (query) => query,
) {
  const column = sortColumn(filters.sort);
  const direction = filters.sort.startsWith('-') ? 'desc' : 'asc';
  const order = direction === 'desc' ? desc : asc;
  return pageWindow(
    joins(baseTaskQuery(db, column))
      .where(and(where, filters.page.after && afterCursor(direction, column, tieBreaker)))
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
      : filters.assignee === 'none' || filters.assignee === 'me'
        ? filters.assignee
        : 'user';
  const name = `project_tasks:${shapeOf(filters, [filters.includeDeleted || undefined])}:${assignee}`;
  const statement = prepared(db, name, () => {
    const conditions = and(
      eq(tasks.projectId, sql.placeholder('projectId')),
      filters.includeDeleted ? undefined : eq(tasks.isActive, true),
      {
        any: undefined,
        none: isNull(tasks.assigneeId),
        me: eq(tasks.assigneeId, sql.placeholder('callerId')),
        user: eq(tasks.assigneeId, sql.placeholder('assigneeId')),
      }[assignee],
      ...filterConditions(filters),
    );
    const page = taskPage(db, conditions, filters, tasks.number);
    const counted = db
      .select({ one: sql`1` })
      .from(tasks)
      .$dynamic();
    const count = cappedCount(
      (filters.category === undefined
        ? counted
        : counted.innerJoin(workflowStates, eq(workflowStates.id, tasks.stateId))
      ).where(conditions),
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
      .leftJoin(projects, eq(projects.id, sql.placeholder('projectId')))
      .leftJoin(callerMembership, joinCallerMembership())
      .leftJoinLateral(page, sql`true`)
      .where(isCaller);
  });
  const rows = await statement.execute({
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

/** GET /tasks?assignee=me: the caller's open tasks (not completed or canceled) in every active project they belong to. */
export async function listMyTasks(db: Database, caller: Caller, filters: MyTaskFilters): Promise<Page<TaskView>> {
  const name = `my_tasks:${shapeOf(filters, [filters.projectId])}`;
  const statement = prepared(db, name, () => {
    const conditions = (caller: SQLWrapper) =>
      and(
        eq(tasks.assigneeId, caller),
        eq(tasks.isActive, true),
        notInArray(workflowStates.category, ['completed', 'canceled']),
        filters.projectId === undefined ? undefined : eq(tasks.projectId, sql.placeholder('projectId')),
        ...filterConditions(filters),
      );
    // Only projects the caller can still read: active, and a member (an assignee who leaves is unassigned anyway).
    const readable = (query: ReturnType<typeof baseTaskQuery>, caller: SQLWrapper) =>
      query
        .innerJoin(projects, and(eq(projects.id, tasks.projectId), isNull(projects.deletedAt)))
        .innerJoin(
          projectMembers,
          and(eq(projectMembers.projectId, tasks.projectId), eq(projectMembers.userId, caller)),
        );
    const page = taskPage(db, conditions(users.id), filters, tasks.id, (query) => readable(query, users.id));
    const count = cappedCount(
      db
        .select({ one: sql`1` })
        .from(tasks)
        .innerJoin(workflowStates, eq(workflowStates.id, tasks.stateId))
        .innerJoin(projects, and(eq(projects.id, tasks.projectId), isNull(projects.deletedAt)))
        .innerJoin(
          projectMembers,
          and(eq(projectMembers.projectId, tasks.projectId), eq(projectMembers.userId, sql.placeholder('callerId'))),
        )
        .where(conditions(sql.placeholder('callerId')))
        .$dynamic(),
    );
    return db
      .select({ actor: actorColumns, ...taskOf(page), total: count })
      .from(users)
      .leftJoinLateral(page, sql`true`)
      .where(isCaller);
  });
  const rows = await statement.execute({
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

/** GET /tasks/{id}/history: newest first, for whoever may read the task. */
export async function listTaskHistory(
  db: Database,
  caller: Caller,
  taskId: string,
  pageRequest: PageRequest,
): Promise<Page<TaskEventRow>> {
  requireTaskAccess(await findTaskWithStanding(db, caller, taskId), 'readTasks', 'for managers');
  const shape = `task_history:${pageRequest.after ? 'after' : 'start'}`;
  const statement = prepared(db, shape, () => {
    const page = pageWindow(
      db
        .select({ ...eventColumns, sortKey: sortKeyText(taskEvents.at).as('sort_key') })
        .from(taskEvents)
        .where(
          and(
            eq(taskEvents.taskId, historyOf.id),
            pageRequest.after && afterCursor('desc', taskEvents.at, taskEvents.id),
          ),
        )
        .orderBy(desc(taskEvents.at), desc(taskEvents.id))
        .$dynamic(),
    ).as('page');
    const count = cappedCount(
      db
        .select({ one: sql`1` })
        .from(taskEvents)
        .where(eq(taskEvents.taskId, sql.placeholder('taskId')))
        .$dynamic(),
    );
    return db
      .select({ event: regroup(eventColumns, page), sortKey: page.sortKey, total: count })
      .from(historyOf)
      .leftJoinLateral(page, sql`true`)
      .where(eq(historyOf.id, sql.placeholder('taskId')));
  });
  const rows = await statement.execute({ taskId, ...pageValues(pageRequest) });
  return toPage(
    rows.filter((row) => row.event !== null),
    pageRequest,
    { count: rows[0]?.total ?? 0, item: (row) => row.event!, key: (row) => [row.sortKey!, String(row.event!.id)] },
  );
}
