import { createRoute, z } from '@hono/zod-openapi';
import { IfMatchHeaders, IfNoneMatchHeaders } from '../../lib/etag.ts';
import { errorResponses, jsonBody, listResponse } from '../../lib/openapi.ts';
import { signedIn } from '../../middleware/auth.ts';
import { whoMay } from '../projects/access.ts';
import { projectRoute } from '../projects/project-route.ts';
import {
  CreateTaskBody,
  HistoryEntrySchema,
  HistoryQuery,
  ListTasksQuery,
  MyTasksQuery,
  ProjectParams,
  TaskParams,
  TaskSchema,
  TransitionTaskBody,
  UpdateTaskBody,
} from './tasks.schemas.ts';

const etagHeader = z.object({
  ETag: z.string().openapi({ description: 'Strong entity tag of this version', example: '"1"' }),
});
const taskResponse = (description: string) => ({
  description,
  headers: etagHeader,
  content: { 'application/json': { schema: TaskSchema } },
});

export const createTask = createRoute({
  operationId: 'createTask',
  method: 'post',
  path: '/projects/{id}/tasks',
  ...projectRoute(
    'tasks',
    'writeTasks',
    'Create a task',
    "It takes the project's next number and starts in `state_id`, or the first unstarted state.",
  ),
  request: { params: ProjectParams, body: jsonBody(CreateTaskBody, 'The new task') },
  responses: { 201: taskResponse('The created task'), ...errorResponses(401, 403, 404, 409) },
});

export const listProjectTasks = createRoute({
  operationId: 'listProjectTasks',
  method: 'get',
  path: '/projects/{id}/tasks',
  ...projectRoute('tasks', 'readTasks', "A project's tasks", `\`include_deleted\`: ${whoMay('readDeletedTasks')}.`),
  request: { params: ProjectParams, query: ListTasksQuery },
  responses: { 200: listResponse(TaskSchema, 'A page of tasks'), ...errorResponses(401, 403, 404) },
});

export const listMyTasks = createRoute({
  ...signedIn('tasks', 'tasks:read'),
  operationId: 'listMyTasks',
  method: 'get',
  path: '/tasks',
  summary: "The caller's open tasks in every project they belong to (`assignee=me`)",
  request: { query: MyTasksQuery },
  responses: { 200: listResponse(TaskSchema, 'A page of tasks'), ...errorResponses(401, 403) },
});

export const getTask = createRoute({
  operationId: 'getTask',
  method: 'get',
  path: '/tasks/{id}',
  ...projectRoute('tasks', 'readTasks', 'One task'),
  request: { params: TaskParams, headers: IfNoneMatchHeaders },
  responses: {
    200: taskResponse('The task'),
    304: { description: 'Not modified: the ETag sent in If-None-Match is current', headers: etagHeader },
    ...errorResponses(401, 403, 404),
  },
});

export const updateTask = createRoute({
  operationId: 'updateTask',
  method: 'patch',
  path: '/tasks/{id}',
  ...projectRoute(
    'tasks',
    'writeTasks',
    'Edit a task, or move it within its state with before_id/after_id',
    'The state changes only through POST /tasks/{id}/transition. Honours If-Match (412 with the current ETag).',
  ),
  request: { params: TaskParams, headers: IfMatchHeaders, body: jsonBody(UpdateTaskBody, 'Fields to change') },
  responses: { 200: taskResponse('The updated task'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const deleteTask = createRoute({
  operationId: 'deleteTask',
  method: 'delete',
  path: '/tasks/{id}',
  ...projectRoute('tasks', 'writeTasks', 'Soft-delete a task'),
  request: { params: TaskParams, headers: IfMatchHeaders },
  responses: { 200: taskResponse('The deleted task'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const restoreTask = createRoute({
  operationId: 'restoreTask',
  method: 'post',
  path: '/tasks/{id}/restore',
  ...projectRoute('tasks', 'writeTasks', 'Undo a soft delete'),
  request: { params: TaskParams, headers: IfMatchHeaders },
  responses: { 200: taskResponse('The restored task'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const transitionTask = createRoute({
  operationId: 'transitionTask',
  method: 'post',
  path: '/tasks/{id}/transition',
  ...projectRoute(
    'tasks',
    'writeTasks',
    'Move a task to another state of its project',
    'The one way a state changes. Entering a started state sets started_at once, completed sets completed_at, canceled sets canceled_at; leaving clears the last two. A move the project does not allow is a 409 listing the `allowed` states. Honours If-Match.',
  ),
  request: { params: TaskParams, headers: IfMatchHeaders, body: jsonBody(TransitionTaskBody, 'The target state') },
  responses: { 200: taskResponse('The task in its new state'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const getTaskHistory = createRoute({
  operationId: 'getTaskHistory',
  method: 'get',
  path: '/tasks/{id}/history',
  ...projectRoute('tasks', 'readTasks', "A task's state changes and assignments, newest first"),
  request: { params: TaskParams, query: HistoryQuery },
  responses: { 200: listResponse(HistoryEntrySchema, 'A page of history entries'), ...errorResponses(401, 403, 404) },
});
