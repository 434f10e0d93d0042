import type { RouteHandler } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../../context.ts';
import { etagFor, isNotModified, parseIfMatch, parseIfNoneMatch } from '../../lib/etag.ts';
import type { z } from '@hono/zod-openapi';
import { readPageRequest, setPaginationHeaders, type PageRequest } from '../../lib/pagination.ts';
import { listMyTasks, listProjectTasks, listTaskHistory, type TaskFilters } from './tasks.list.ts';
import type * as routes from './tasks.routes.ts';
import {
  HISTORY_ORDER,
  taskListOrder,
  toHistoryResponse,
  toTaskResponse,
  type ListTasksQuery,
  type MyTasksQuery,
  type TaskView,
} from './tasks.schemas.ts';
import * as service from './tasks.service.ts';

const db = (c: AppContext) => c.get('database').db;

function respondWithTask<S extends 200 | 201>(c: AppContext, task: TaskView, status: S) {
  c.header('ETag', etagFor(task.version));
  return c.json(toTaskResponse(task), status);
}

export const create: RouteHandler<typeof routes.createTask, AppEnv> = async (c) =>
  respondWithTask(
    c,
    await service.createTask(db(c), c.get('caller'), c.req.valid('param').id, c.req.valid('json')),
    201,
  );

/** The filters both task lists take, from their query. */
function filtersOf(
  query: z.infer<typeof MyTasksQuery> | z.infer<typeof ListTasksQuery>,
  page: PageRequest,
): TaskFilters {
  return {
    stateId: query.state_id,
    category: query.category,
    priority: query.priority,
    dueBefore: query.due_before,
    dueAfter: query.due_after,
    q: query.q,
    sort: query.sort,
    page,
  };
}

export const listInProject: RouteHandler<typeof routes.listProjectTasks, AppEnv> = async (c) => {
  const query = c.req.valid('query');
  const page = readPageRequest(c, query, taskListOrder('project', query.sort));
  const tasks = await listProjectTasks(db(c), c.get('caller'), c.req.valid('param').id, {
    ...filtersOf(query, page),
    assignee: query.assignee_id,
    includeDeleted: query.include_deleted,
  });
  setPaginationHeaders(c, tasks, page);
  return c.json(tasks.items.map(toTaskResponse), 200);
};

export const listMine: RouteHandler<typeof routes.listMyTasks, AppEnv> = async (c) => {
  const query = c.req.valid('query');
  const page = readPageRequest(c, query, taskListOrder('mine', query.sort));
  const tasks = await listMyTasks(db(c), c.get('caller'), { ...filtersOf(query, page), projectId: query.project_id });
  setPaginationHeaders(c, tasks, page);
  return c.json(tasks.items.map(toTaskResponse), 200);
};

export const get: RouteHandler<typeof routes.getTask, AppEnv> = async (c) => {
  const task = await service.getTask(db(c), c.get('caller'), c.req.valid('param').id);
  if (isNotModified(parseIfNoneMatch(c.req.valid('header')['if-none-match']), task.version)) {
    c.header('ETag', etagFor(task.version));
    return c.body(null, 304);
  }
  return respondWithTask(c, task, 200);
};

export const update: RouteHandler<typeof routes.updateTask, AppEnv> = async (c) =>
  respondWithTask(
    c,
    await service.updateTask(
      db(c),
      c.get('caller'),
      c.req.valid('param').id,
      c.req.valid('json'),
      parseIfMatch(c.req.valid('header')['if-match']),
    ),
    200,
  );

export const remove: RouteHandler<typeof routes.deleteTask, AppEnv> = async (c) =>
  respondWithTask(
    c,
    await service.softDeleteTask(
      db(c),
      c.get('caller'),
      c.req.valid('param').id,
      parseIfMatch(c.req.valid('header')['if-match']),
    ),
    200,
  );

export const restore: RouteHandler<typeof routes.restoreTask, AppEnv> = async (c) =>
  respondWithTask(
    c,
    await service.restoreTask(
      db(c),
      c.get('caller'),
      c.req.valid('param').id,
      parseIfMatch(c.req.valid('header')['if-match']),
    ),
    200,
  );

export const transition: RouteHandler<typeof routes.transitionTask, AppEnv> = async (c) =>
  respondWithTask(
    c,
    await service.transitionTask(
      db(c),
      c.get('caller'),
      c.req.valid('param').id,
      c.req.valid('json').to_state_id,
      parseIfMatch(c.req.valid('header')['if-match']),
    ),
    200,
  );

export const history: RouteHandler<typeof routes.getTaskHistory, AppEnv> = async (c) => {
  const page = readPageRequest(c, c.req.valid('query'), HISTORY_ORDER);
  const events = await listTaskHistory(db(c), c.get('caller'), c.req.valid('param').id, page);
  setPaginationHeaders(c, events, page);
  return c.json(events.items.map(toHistoryResponse), 200);
};
