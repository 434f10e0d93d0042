import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../context.ts';
import { currentUser } from '../../middleware/auth.ts';
import { setPaginationHeaders } from '../../lib/pagination.ts';
import { toUserResponse } from '../users/users.schemas.ts';
import type * as routes from './admin.routes.ts';
import { changeUserRole, changeUserStatus, getUser, listUsers } from './admin.service.ts';

export const list: RouteHandler<typeof routes.listUsers, AppEnv> = async (c) => {
  const query = c.req.valid('query');
  const page = await listUsers(c.get('database').db, {
    q: query.q,
    role: query.role,
    isActive: query.is_active,
    limit: query.limit,
    offset: query.offset,
  });
  setPaginationHeaders(c, page.total, query.limit, query.offset);
  return c.json(page.items.map(toUserResponse), 200);
};

export const get: RouteHandler<typeof routes.getUser, AppEnv> = async (c) => {
  const user = await getUser(c.get('database').db, c.req.valid('param').id);
  return c.json(toUserResponse(user), 200);
};

export const changeRole: RouteHandler<typeof routes.changeRole, AppEnv> = async (c) => {
  const user = await changeUserRole(c.get('database').db, await currentUser(c), c.req.valid('param').id, c.req.valid('json').role);
  return c.json(toUserResponse(user), 200);
};

export const changeStatus: RouteHandler<typeof routes.changeStatus, AppEnv> = async (c) => {
  const user = await changeUserStatus(
    c.get('database').db,
    await currentUser(c),
    c.req.valid('param').id,
    c.req.valid('json').is_active,
  );
  return c.json(toUserResponse(user), 200);
};
