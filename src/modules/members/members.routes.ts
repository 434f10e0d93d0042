import { createRoute } from '@hono/zod-openapi';
import { errorResponses, jsonBody, jsonResponse, listResponse } from '../../lib/openapi.ts';
import { IdParams } from '../../lib/validation.ts';
import { INVITATION_RULES, invitationAccepted } from '../invitations/invitations.routes.ts';
import { projectRoute } from '../projects/project-route.ts';
import { projectResponse } from '../projects/projects.routes.ts';
import {
  AddMemberBody,
  ChangeMemberRoleBody,
  ListMembersQuery,
  MemberParams,
  MemberSchema,
  TransferProjectBody,
} from './members.schemas.ts';

export const listMembers = createRoute({
  operationId: 'listProjectMembers',
  method: 'get',
  path: '/projects/{id}/members',
  ...projectRoute('members', 'readMembers', 'Members of a project, the owner included'),
  request: { params: IdParams, query: ListMembersQuery },
  responses: { 200: listResponse(MemberSchema, 'A page of members, oldest first'), ...errorResponses(401, 403, 404) },
});

export const addMember = createRoute({
  operationId: 'addProjectMember',
  method: 'post',
  path: '/projects/{id}/members',
  ...projectRoute(
    'members',
    'manageMembers',
    'Add a member (admins) or invite them (everyone else)',
    `Admins add an existing active account at once: 201 with the member, 404 when no active user has the email, 409 when the user is already a member, owns the project, or is the caller. Everyone else gets exactly what POST /projects/{id}/invitations answers: 202 with the invitation, mailed to the address, whether or not an account uses it. ${INVITATION_RULES}`,
  ),
  request: { params: IdParams, body: jsonBody(AddMemberBody, 'Who, and with which role') },
  responses: {
    201: jsonResponse(MemberSchema, 'The new member (admins)'),
    ...invitationAccepted,
    ...errorResponses(401, 403, 404, 409, 429),
  },
});

export const changeMemberRole = createRoute({
  operationId: 'changeProjectMemberRole',
  method: 'patch',
  path: '/projects/{id}/members/{user_id}',
  ...projectRoute(
    'members',
    'manageMembers',
    "Change a member's role",
    "409 for the owner (transfer the project instead) and for the caller's own role.",
  ),
  request: { params: MemberParams, body: jsonBody(ChangeMemberRoleBody, 'The new role') },
  responses: { 200: jsonResponse(MemberSchema, 'The member'), ...errorResponses(401, 403, 404, 409) },
});

export const removeMember = createRoute({
  operationId: 'removeProjectMember',
  method: 'delete',
  path: '/projects/{id}/members/{user_id}',
  ...projectRoute(
    'members',
    'manageMembers',
    'Remove a member, or leave',
    'Any member may remove themselves (leave). Access ends at once, for requests already authenticated too. The owner cannot be removed (409).',
  ),
  request: { params: MemberParams },
  responses: { 204: { description: 'Removed' }, ...errorResponses(401, 403, 404, 409) },
});

export const transferProject = createRoute({
  operationId: 'transferProject',
  method: 'post',
  path: '/projects/{id}/transfer',
  ...projectRoute(
    'members',
    'transferProject',
    'Make a member the owner',
    'The previous owner stays as a manager. 409 when the new owner is not an active member of the project.',
  ),
  request: { params: IdParams, body: jsonBody(TransferProjectBody, 'The new owner') },
  responses: { 200: projectResponse('The project under its new owner'), ...errorResponses(401, 403, 404, 409) },
});
