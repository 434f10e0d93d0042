import type { RouteHandler } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../../context.ts';
import { adminAllowed, isAdmin } from '../../lib/actor.ts';
import { etagFor } from '../../lib/etag.ts';
import { currentUser } from '../../middleware/auth.ts';
import { respondWithInvitation } from '../invitations/invitations.handlers.ts';
import { readPageRequest, setPaginationHeaders } from '../../lib/pagination.ts';
import { toProjectResponse } from '../projects/projects.schemas.ts';
import type * as routes from './members.routes.ts';
import { MEMBER_LIST_ORDER, toMemberResponse } from './members.schemas.ts';
import * as service from './members.service.ts';

const db = (c: AppContext) => c.get('database').db;

export const list: RouteHandler<typeof routes.listMembers, AppEnv> = async (c) => {
  const page = readPageRequest(c, c.req.valid('query'), MEMBER_LIST_ORDER);
  const members = await service.listMembers(db(c), c.get('caller'), c.req.valid('param').id, page);
  setPaginationHeaders(c, members, page);
  return c.json(members.items.map(toMemberResponse), 200);
};

/** Admins add an existing account at once (the admin override); everyone else invites the address. */
export const add: RouteHandler<typeof routes.addMember, AppEnv> = async (c) => {
  const projectId = c.req.valid('param').id;
  if (!adminAllowed(c.get('caller')) || !isAdmin(await currentUser(c)))
    return respondWithInvitation(c, projectId, c.req.valid('json'));
  return c.json(toMemberResponse(await service.addMember(db(c), c.get('caller'), projectId, c.req.valid('json'))), 201);
};

export const changeRole: RouteHandler<typeof routes.changeMemberRole, AppEnv> = async (c) => {
  const { id, user_id: userId } = c.req.valid('param');
  return c.json(
    toMemberResponse(await service.changeMemberRole(db(c), c.get('caller'), id, userId, c.req.valid('json').role)),
    200,
  );
};

export const remove: RouteHandler<typeof routes.removeMember, AppEnv> = async (c) => {
  const { id, user_id: userId } = c.req.valid('param');
  await service.removeMember(db(c), c.get('caller'), id, userId);
  return c.body(null, 204);
};

export const transfer: RouteHandler<typeof routes.transferProject, AppEnv> = async (c) => {
  const project = await service.transferProject(
    db(c),
    c.get('caller'),
    c.req.valid('param').id,
    c.req.valid('json').user_id,
  );
  c.header('ETag', etagFor(project.version));
  return c.json(toProjectResponse(project), 200);
};
