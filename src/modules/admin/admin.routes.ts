import { createRoute } from '@hono/zod-openapi';
import { errorResponses, jsonBody, jsonResponse, listResponse } from '../../lib/openapi.ts';
import { IdParams } from '../../lib/validation.ts';
import { requireRole, signedIn } from '../../middleware/auth.ts';
import { UserSchema } from '../users/users.schemas.ts';
import { ChangeRoleBody, ChangeStatusBody, ListUsersQuery } from './admin.schemas.ts';

const adminOnly = signedIn('admin', 'admin', requireRole('admin'));

export const listUsers = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/auth/admin/users',
  operationId: 'listUsers',
  summary: 'List users, newest first',
  request: { query: ListUsersQuery },
  responses: { 200: listResponse(UserSchema, 'A page of users'), ...errorResponses(401, 403) },
});

export const getUser = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/auth/admin/users/{id}',
  operationId: 'getUser',
  summary: 'One user',
  request: { params: IdParams },
  responses: { 200: jsonResponse(UserSchema, 'The user'), ...errorResponses(401, 403, 404) },
});

export const changeRole = createRoute({
  ...adminOnly,
  method: 'patch',
  path: '/auth/admin/users/{id}/role',
  operationId: 'changeUserRole',
  summary: "Change a user's role",
  description: 'The last active admin cannot be demoted (409).',
  request: { params: IdParams, body: jsonBody(ChangeRoleBody, 'The new role') },
  responses: { 200: jsonResponse(UserSchema, 'The updated user'), ...errorResponses(401, 403, 404, 409) },
});

export const changeStatus = createRoute({
  ...adminOnly,
  method: 'patch',
  path: '/auth/admin/users/{id}/status',
  operationId: 'changeUserStatus',
  summary: 'Activate or deactivate a user',
  description: 'An admin cannot deactivate themselves, and the last active admin cannot be deactivated (409).',
  request: { params: IdParams, body: jsonBody(ChangeStatusBody, 'The new status') },
  responses: { 200: jsonResponse(UserSchema, 'The updated user'), ...errorResponses(401, 403, 404, 409) },
});
