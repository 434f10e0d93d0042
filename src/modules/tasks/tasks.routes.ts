import { createRoute, z } from '@hono/zod-openapi';
import { IfMatchHeaders, IfNoneMatchHeaders } from '../../lib/etag.ts';
import { errorResponses, jsonBody, listResponse } from '../../lib/openapi.ts';
import { signedIn } from '../../middleware/auth.ts';
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

const authenticated = signedIn('tasks');

const etagHeader = z.object({
  ETag: z.string().openapi({ description: 'Strong entity tag of this version', example: '"1"' }),
});
const taskResponse = (description: string) => ({
  description,
  headers: etagHeader,
  content: { 'application/json': { schema: TaskSchema } },
});

export const createTask = createRoute({
  ...authenticated,
  operationId: 'createTask',
  method: 'post',
  path: '/projects/{id}/tasks',
  summary: 'Create a task (editors, managers, the owner, admins)',
  description: "It takes the project's next number and starts in `state_id`, or the first unstarted state.",
  request: { params: ProjectParams, body: jsonBody(CreateTaskBody, 'The new task') },
  responses: { 201: taskResponse('The created task'), ...errorResponses(401, 403, 404, 409) },
});

export const listProjectTasks = createRoute({
  ...authenticated,
  operationId: 'listProjectTasks',
  method: 'get',
  path: '/projects/{id}/tasks',
  summary: "A project's tasks (any member; include_deleted for managers, the owner, admins)",
  request: { params: ProjectParams, query: ListTasksQuery },
  responses: { 200: listResponse(TaskSchema, 'A page of tasks'), ...errorResponses(401, 403, 404) },
});

export const listMyTasks = createRoute({
  ...authenticated,
  operationId: 'listMyTasks',
  method: 'get',
  path: '/tasks',
  summary: "The caller's open tasks in every project they belong to (`assignee=me`)",
  request: { query: MyTasksQuery },
  responses: { 200: listResponse(TaskSchema, 'A page of tasks'), ...errorResponses(401, 403) },
});

export const getTask = createRoute({
  ...authenticated,
  operationId: 'getTask',
  method: 'get',
  path: '/tasks/{id}',
  summary: 'One task (any member of its project)',
  request: { params: TaskParams, headers: IfNoneMatchHeaders },
  responses: {
    200: taskResponse('The task'),
    304: { description: 'Not modified: the ETag sent in If-None-Match is current', headers: etagHeader },
    ...errorResponses(401, 403, 404),
  },
});

export const updateTask = createRoute({
  ...authenticated,
  operationId: 'updateTask',
  method: 'patch',
  path: '/tasks/{id}',
  summary: 'Edit a task, or move it within its state with before_id/after_id (editors and above)',
  description:
    'The state changes only through POST /tasks/{id}/transition. Honours If-Match (412 with the current ETag).',
  request: { params: TaskParams, headers: IfMatchHeaders, body: jsonBody(UpdateTaskBody, 'Fields to change') },
  responses: { 200: taskResponse('The updated task'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const deleteTask = createRoute({
  ...authenticated,
  operationId: 'deleteTask',
  method: 'delete',
  path: '/tasks/{id}',
  summary: 'Soft-delete a task (editors and above)',
  request: { params: TaskParams, headers: IfMatchHeaders },
  responses: { 200: taskResponse('The deleted task'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const restoreTask = createRoute({
  ...authenticated,
  operationId: 'restoreTask',
  method: 'post',
  path: '/tasks/{id}/restore',
  summary: 'Undo a soft delete (editors and above)',
  request: { params: TaskParams, headers: IfMatchHeaders },
  responses: { 200: taskResponse('The restored task'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const transitionTask = createRoute({
  ...authenticated,
  operationId: 'transitionTask',
  method: 'post',
  path: '/tasks/{id}/transition',
  summary: 'Move a task to another state of its project (editors and above)',
  description:
    'The one way a state changes. Entering a started state sets started_at once, completed sets completed_at, canceled sets canceled_at; leaving clears the last two. A move the project does not allow is a 409 listing the `allowed` states. Honours If-Match.',
  request: { params: TaskParams, headers: IfMatchHeaders, body: jsonBody(TransitionTaskBody, 'The target state') },
  responses: { 200: taskResponse('The task in its new state'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const getTaskHistory = createRoute({
  ...authenticated,
  operationId: 'getTaskHistory',
  method: 'get',
  path: '/tasks/{id}/history',
  summary: "A task's state changes and assignments, newest first",
  request: { params: TaskParams, query: HistoryQuery },
  responses: { 200: listResponse(HistoryEntrySchema, 'A page of history entries'), ...errorResponses(401, 403, 404) },
});
