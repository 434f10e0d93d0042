import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses, jsonBody, listResponse } from '../../lib/openapi.ts';
import { IdParams } from '../../lib/validation.ts';
import { signedIn } from '../../middleware/auth.ts';
import { projectRoute } from './project-route.ts';
import { IfMatchHeaders, IfNoneMatchHeaders } from '../../lib/etag.ts';
import { CreateProjectBody, ListProjectsQuery, ProjectSchema, UpdateProjectBody } from './projects.schemas.ts';

const etagHeader = z.object({
  ETag: z.string().openapi({ description: 'Strong entity tag of this version', example: '"1"' }),
});

/** A single project, with the ETag that `If-Match` expects back. */
export const projectResponse = (description: string) => ({
  description,
  headers: etagHeader,
  content: { 'application/json': { schema: ProjectSchema } },
});

export const createProject = createRoute({
  ...signedIn('projects', 'projects:write'),
  operationId: 'createProject',
  method: 'post',
  path: '/projects',
  summary: 'Create a project owned by the caller',
  request: { body: jsonBody(CreateProjectBody, 'The new project') },
  responses: { 201: projectResponse('The created project'), ...errorResponses(401, 403, 409) },
});

export const listProjects = createRoute({
  ...signedIn('projects', 'projects:read'),
  operationId: 'listProjects',
  method: 'get',
  path: '/projects',
  summary: 'List projects, newest first by default',
  description: 'Users see their own active projects; admins see all and may use `owner_id` and `include_deleted`.',
  request: { query: ListProjectsQuery },
  responses: { 200: listResponse(ProjectSchema, 'A page of projects'), ...errorResponses(401, 403) },
});

export const getProject = createRoute({
  operationId: 'getProject',
  method: 'get',
  path: '/projects/{id}',
  ...projectRoute(
    'projects',
    'readProject',
    'One project',
    'Honours `If-None-Match`: 304 when the client already has the current version (the caller is still checked).',
  ),
  request: { params: IdParams, headers: IfNoneMatchHeaders },
  responses: {
    200: projectResponse('The project'),
    304: { description: 'Not modified: the ETag sent in If-None-Match is current', headers: etagHeader },
    ...errorResponses(401, 403, 404),
  },
});

const updateRequest = {
  params: IdParams,
  headers: IfMatchHeaders,
  body: jsonBody(UpdateProjectBody, 'Fields to change'),
};
const updateResponses = { 200: projectResponse('The updated project'), ...errorResponses(401, 403, 404, 409, 412) };

export const replaceProject = createRoute({
  operationId: 'replaceProject',
  method: 'put',
  path: '/projects/{id}',
  ...projectRoute('projects', 'updateProject', 'Update a project'),
  request: updateRequest,
  responses: updateResponses,
});

export const patchProject = createRoute({
  operationId: 'updateProject',
  method: 'patch',
  path: '/projects/{id}',
  ...projectRoute('projects', 'updateProject', 'Update a project'),
  request: updateRequest,
  responses: updateResponses,
});

export const deleteProject = createRoute({
  operationId: 'deleteProject',
  method: 'delete',
  path: '/projects/{id}',
  ...projectRoute('projects', 'deleteProject', 'Soft-delete a project'),
  request: { params: IdParams, headers: IfMatchHeaders },
  responses: { 200: projectResponse('The deleted project'), ...errorResponses(401, 403, 404, 409, 412) },
});

export const restoreProject = createRoute({
  operationId: 'restoreProject',
  method: 'post',
  path: '/projects/{id}/restore',
  ...projectRoute('projects', 'restoreProject', 'Undo a soft delete'),
  request: { params: IdParams, headers: IfMatchHeaders },
  responses: { 200: projectResponse('The restored project'), ...errorResponses(401, 403, 404, 409, 412) },
});
