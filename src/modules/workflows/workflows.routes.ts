import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses, jsonBody, jsonResponse } from '../../lib/openapi.ts';
import { IdParams } from '../../lib/validation.ts';
import { projectRoute } from '../projects/project-route.ts';
import {
  CreateStateBody,
  DeleteStateQuery,
  ReplaceTransitionsBody,
  StateParams,
  MAX_TRANSITIONS,
  StateSchema,
  TransitionsSchema,
  UpdateStateBody,
} from './workflows.schemas.ts';

export const listStates = createRoute({
  operationId: 'listWorkflowStates',
  method: 'get',
  path: '/projects/{id}/states',
  ...projectRoute('workflows', 'readTasks', "A project's workflow states, in order, with their task counts"),
  request: { params: IdParams },
  responses: { 200: jsonResponse(z.array(StateSchema), 'The states'), ...errorResponses(401, 403, 404) },
});

export const createState = createRoute({
  operationId: 'createWorkflowState',
  method: 'post',
  path: '/projects/{id}/states',
  ...projectRoute(
    'workflows',
    'manageWorkflow',
    'Add a state',
    'Names are unique per project, case-insensitively (409). A project has at most 50 states (`MAX_STATES_PER_PROJECT`; 409 `state_limit_reached`). In a project with restricted transitions a new state has none until they are replaced.',
  ),
  request: { params: IdParams, body: jsonBody(CreateStateBody, 'The new state') },
  responses: { 201: jsonResponse(StateSchema, 'The created state'), ...errorResponses(401, 403, 404, 409) },
});

export const updateState = createRoute({
  operationId: 'updateWorkflowState',
  method: 'patch',
  path: '/projects/{id}/states/{state_id}',
  ...projectRoute(
    'workflows',
    'manageWorkflow',
    'Rename, move or recategorise a state',
    'A workflow keeps at least one unstarted or backlog state and one completed state (409). Tasks keep their timestamps when a state is recategorised.',
  ),
  request: { params: StateParams, body: jsonBody(UpdateStateBody, 'What to change') },
  responses: { 200: jsonResponse(StateSchema, 'The state'), ...errorResponses(401, 403, 404, 409) },
});

export const deleteState = createRoute({
  operationId: 'deleteWorkflowState',
  method: 'delete',
  path: '/projects/{id}/states/{state_id}',
  ...projectRoute(
    'workflows',
    'manageWorkflow',
    'Delete a state, moving its tasks to `move_to`',
    'A state that holds tasks (deleted ones included) needs `move_to` (409 with the count otherwise); the tasks move as a transition would, each with a history entry.',
  ),
  request: { params: StateParams, query: DeleteStateQuery },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404, 409) },
});

export const listTransitions = createRoute({
  operationId: 'listWorkflowTransitions',
  method: 'get',
  path: '/projects/{id}/transitions',
  ...projectRoute(
    'workflows',
    'readTasks',
    'The moves allowed between states',
    'By default a project is not restricted (`restricted: false`): every move between two different states is allowed, and no pairs are listed.',
  ),
  request: { params: IdParams },
  responses: { 200: jsonResponse(TransitionsSchema, 'The allowed moves'), ...errorResponses(401, 403, 404) },
});

export const replaceTransitions = createRoute({
  operationId: 'replaceWorkflowTransitions',
  method: 'put',
  path: '/projects/{id}/transitions',
  ...projectRoute(
    'workflows',
    'manageWorkflow',
    'Replace the allowed moves; enforced on every transition from then on',
    `At most ${MAX_TRANSITIONS} pairs; the project is restricted from then on.`,
  ),
  request: { params: IdParams, body: jsonBody(ReplaceTransitionsBody, 'Every allowed move') },
  responses: { 200: jsonResponse(TransitionsSchema, 'The allowed moves'), ...errorResponses(401, 403, 404, 409) },
});
