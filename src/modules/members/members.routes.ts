import { createRoute } from '@hono/zod-openapi';
import { errorResponses, jsonBody, jsonResponse, listResponse } from '../../lib/openapi.ts';
import { IdParams } from '../../lib/validation.ts';
import { signedIn } from '../../middleware/auth.ts';
import { projectResponse } from '../projects/projects.routes.ts';
import {
  AddMemberBody,
  ChangeMemberRoleBody,
  ListMembersQuery,
  MemberParams,
  MemberSchema,
  TransferProjectBody,
} from './members.schemas.ts';

const authenticated = signedIn('members');

export const listMembers = createRoute({
  ...authenticated,
  operationId: 'listProjectMembers',
  method: 'get',
  path: '/projects/{id}/members',
  summary: 'Members of a project, the owner included (any member)',
  request: { params: IdParams, query: ListMembersQuery },
  responses: { 200: listResponse(MemberSchema, 'A page of members, oldest first'), ...errorResponses(401, 403, 404) },
});

export const addMember = createRoute({
  ...authenticated,
  operationId: 'addProjectMember',
  method: 'post',
  path: '/projects/{id}/members',
  summary: 'Add an active user as a viewer, editor or manager (managers, the owner, admins)',
  description:
    '404 when no active user has the email (whether it is unknown or deactivated); 409 when the user is already a member, owns the project, or is the caller.',
  request: { params: IdParams, body: jsonBody(AddMemberBody, 'Who, and with which role') },
  responses: { 201: jsonResponse(MemberSchema, 'The new member'), ...errorResponses(401, 403, 404, 409) },
});

export const changeMemberRole = createRoute({
  ...authenticated,
  operationId: 'changeProjectMemberRole',
  method: 'patch',
  path: '/projects/{id}/members/{user_id}',
  summary: "Change a member's role (managers, the owner, admins)",
  description: "409 for the owner (transfer the project instead) and for the caller's own role.",
  request: { params: MemberParams, body: jsonBody(ChangeMemberRoleBody, 'The new role') },
  responses: { 200: jsonResponse(MemberSchema, 'The member'), ...errorResponses(401, 403, 404, 409) },
});

export const removeMember = createRoute({
  ...authenticated,
  operationId: 'removeProjectMember',
  method: 'delete',
  path: '/projects/{id}/members/{user_id}',
  summary: 'Remove a member (managers, the owner, admins), or leave (any member, for themselves)',
  description: 'Access ends at once, for requests already authenticated too. The owner cannot be removed (409).',
  request: { params: MemberParams },
  responses: { 204: { description: 'Removed' }, ...errorResponses(401, 403, 404, 409) },
});

export const transferProject = createRoute({
  ...authenticated,
  operationId: 'transferProject',
  method: 'post',
  path: '/projects/{id}/transfer',
  summary: 'Make a member the owner (the owner, admins); the previous owner stays as a manager',
  description: '409 when the new owner is not an active member of the project.',
  request: { params: IdParams, body: jsonBody(TransferProjectBody, 'The new owner') },
  responses: { 200: projectResponse('The project under its new owner'), ...errorResponses(401, 403, 404, 409) },
});
