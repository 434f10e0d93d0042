import { createRoute } from '@hono/zod-openapi';
import { errorResponses, jsonBody, jsonResponse, listResponse } from '../../lib/openapi.ts';
import { IdParams } from '../../lib/validation.ts';
import { signedIn } from '../../middleware/auth.ts';
import { limitPerIp } from '../../middleware/rate-limit.ts';
import { MemberSchema } from '../members/members.schemas.ts';
import { projectRoute } from '../projects/project-route.ts';
import {
  AcceptInvitationBody,
  InvitationParams,
  InvitationSchema,
  InviteBody,
  ListInvitationsQuery,
  MyInvitationSchema,
} from './invitations.schemas.ts';

/** What POST /projects/{id}/invitations answers, and POST /projects/{id}/members for everyone but admins. */
export const invitationAccepted = {
  202: jsonResponse(
    InvitationSchema,
    'The invitation, mailed to the address; the same answer whether or not an account uses it',
  ),
};
export const INVITATION_RULES =
  'The invitation works for `INVITATION_DAYS` (7) and replaces a pending one to the same address. 409 `already_member` when an account with the address is a member already, 409 `invitation_limit_reached` past `MAX_PENDING_INVITATIONS` (100) pending in the project, 429 past `INVITATIONS_PER_HOUR` (50) by one inviter.';

export const createInvitation = createRoute({
  operationId: 'createInvitation',
  method: 'post',
  path: '/projects/{id}/invitations',
  ...projectRoute('invitations', 'manageMembers', 'Invite an email address to the project', INVITATION_RULES),
  request: { params: IdParams, body: jsonBody(InviteBody, 'Who, and with which role') },
  responses: { ...invitationAccepted, ...errorResponses(401, 403, 404, 409, 429) },
});

export const listInvitations = createRoute({
  operationId: 'listProjectInvitations',
  method: 'get',
  path: '/projects/{id}/invitations',
  ...projectRoute('invitations', 'manageMembers', "The project's pending invitations"),
  request: { params: IdParams, query: ListInvitationsQuery },
  responses: {
    200: listResponse(InvitationSchema, 'A page of pending invitations, newest first'),
    ...errorResponses(401, 403, 404),
  },
});

export const withdrawInvitation = createRoute({
  operationId: 'withdrawInvitation',
  method: 'delete',
  path: '/projects/{id}/invitations/{invitation_id}',
  ...projectRoute('invitations', 'manageMembers', 'Withdraw a pending invitation', 'Its link stops working at once.'),
  request: { params: InvitationParams },
  responses: { 204: { description: 'Withdrawn' }, ...errorResponses(401, 403, 404) },
});

export const listMyInvitations = createRoute({
  ...signedIn('invitations', 'members:read'),
  operationId: 'listMyInvitations',
  method: 'get',
  path: '/invitations',
  summary: "The caller's pending invitations (any user with a verified address)",
  description: "Invitations to the caller's address, once it is verified (403 `email_unverified` before).",
  request: { query: ListInvitationsQuery },
  responses: {
    200: listResponse(MyInvitationSchema, 'A page of pending invitations, newest first'),
    ...errorResponses(401, 403),
  },
});

const acceptResponses = {
  201: jsonResponse(MemberSchema, 'The caller, now a member with the invited role'),
  ...errorResponses(401, 403, 404, 409),
};
const ACCEPT_RULES =
  'The caller must be signed in with the invited address, verified (403 `invitation_mismatch` for another address, 403 `email_unverified` before it is verified; an account made with POST /auth/signup and the invitation token is verified).';

export const acceptInvitationByToken = createRoute({
  ...signedIn('invitations', 'members:write', limitPerIp('invitation')),
  operationId: 'acceptInvitation',
  method: 'post',
  path: '/invitations/accept',
  summary: 'Accept an invitation with the token from its message (the invited user)',
  description: `${ACCEPT_RULES} An unknown, accepted, withdrawn or expired token is a 400 \`invitation_invalid\`.`,
  request: { body: jsonBody(AcceptInvitationBody, 'The token from the message') },
  responses: { ...acceptResponses, ...errorResponses(429) },
});

export const acceptInvitationById = createRoute({
  ...signedIn('invitations', 'members:write'),
  operationId: 'acceptInvitationById',
  method: 'post',
  path: '/invitations/{id}/accept',
  summary: 'Accept one of the pending invitations GET /invitations lists (the invited user)',
  description: `${ACCEPT_RULES} 409 \`invitation_not_pending\` once it is accepted, withdrawn or expired.`,
  request: { params: IdParams },
  responses: acceptResponses,
});
