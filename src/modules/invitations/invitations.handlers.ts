import type { RouteHandler } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../../context.ts';
import { readPageRequest, setPaginationHeaders } from '../../lib/pagination.ts';
import { sendAfterResponse } from '../mail/mail.delivery.ts';
import { toMemberResponse } from '../members/members.schemas.ts';
import type * as routes from './invitations.routes.ts';
import {
  INVITATION_LIST_ORDER,
  MY_INVITATION_LIST_ORDER,
  toInvitationResponse,
  toMyInvitationResponse,
} from './invitations.schemas.ts';
import * as service from './invitations.service.ts';

const db = (c: AppContext) => c.get('database').db;

/** Invites `input` to the project and answers 202 with the invitation (also POST /projects/{id}/members). */
export async function respondWithInvitation(c: AppContext, projectId: string, input: service.InviteInput) {
  const { invitation, mailIds } = await service.inviteToProject(
    db(c),
    c.get('caller'),
    projectId,
    input,
    c.get('config'),
  );
  sendAfterResponse(c, mailIds);
  return c.json(toInvitationResponse(invitation), 202);
}

export const create: RouteHandler<typeof routes.createInvitation, AppEnv> = (c) =>
  respondWithInvitation(c, c.req.valid('param').id, c.req.valid('json'));

export const list: RouteHandler<typeof routes.listInvitations, AppEnv> = async (c) => {
  const page = readPageRequest(c, c.req.valid('query'), INVITATION_LIST_ORDER);
  const invitations = await service.listProjectInvitations(db(c), c.get('caller'), c.req.valid('param').id, page);
  setPaginationHeaders(c, invitations, page);
  return c.json(invitations.items.map(toInvitationResponse), 200);
};

export const withdraw: RouteHandler<typeof routes.withdrawInvitation, AppEnv> = async (c) => {
  const { id, invitation_id: invitationId } = c.req.valid('param');
  await service.withdrawInvitation(db(c), c.get('caller'), id, invitationId);
  return c.body(null, 204);
};

export const listMine: RouteHandler<typeof routes.listMyInvitations, AppEnv> = async (c) => {
  const page = readPageRequest(c, c.req.valid('query'), MY_INVITATION_LIST_ORDER);
  const invitations = await service.listMyInvitations(db(c), c.get('caller'), page);
  setPaginationHeaders(c, invitations, page);
  return c.json(invitations.items.map(toMyInvitationResponse), 200);
};

export const acceptByToken: RouteHandler<typeof routes.acceptInvitationByToken, AppEnv> = async (c) =>
  c.json(
    toMemberResponse(await service.acceptInvitation(db(c), c.get('caller'), { token: c.req.valid('json').token })),
    201,
  );

export const acceptById: RouteHandler<typeof routes.acceptInvitationById, AppEnv> = async (c) =>
  c.json(
    toMemberResponse(await service.acceptInvitation(db(c), c.get('caller'), { invitationId: c.req.valid('param').id })),
    201,
  );
