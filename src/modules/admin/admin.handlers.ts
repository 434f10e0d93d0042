import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../context.ts';
import { readPageRequest, setPaginationHeaders } from '../../lib/pagination.ts';
import { toUserResponse } from '../users/users.schemas.ts';
import type * as routes from './admin.routes.ts';
import { changeUserRole, changeUserStatus, getUser, listUsers, USER_LIST_ORDER } from './admin.service.ts';

export const list: RouteHandler<typeof routes.listUsers, AppEnv> = async (c) => {
  const query = c.req.valid('query');
  const page = readPageRequest(c, query, USER_LIST_ORDER);
  const users = await listUsers(c.get('database').db, c.get('caller'), {
    q: query.q,
    role: query.role,
    isActive: query.is_active,
    page,
  });
  setPaginationHeaders(c, users, page);
  return c.json(users.items.map(toUserResponse), 200);
};

export const get: RouteHandler<typeof routes.getUser, AppEnv> = async (c) => {
  const user = await getUser(c.get('database').db, c.req.valid('param').id);
  return c.json(toUserResponse(user), 200);
};

export const changeRole: RouteHandler<typeof routes.changeRole, AppEnv> = async (c) => {
  const user = await changeUserRole(
    c.get('database').db,
    c.get('caller'),
    c.req.valid('param').id,
    c.req.valid('json').role,
  );
  return c.json(toUserResponse(user), 200);
};

export const changeStatus: RouteHandler<typeof routes.changeStatus, AppEnv> = async (c) => {
  const user = await changeUserStatus(
    c.get('database').db,
    c.get('caller'),
    c.req.valid('param').id,
    c.req.valid('json').is_active,
  );
  return c.json(toUserResponse(user), 200);
};
