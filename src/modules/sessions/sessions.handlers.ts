import type { RouteHandler } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../../context.ts';
import { readPageRequest, setPaginationHeaders } from '../../lib/pagination.ts';
import { requestMeta } from '../../middleware/auth.ts';
import { toTokenResponse } from '../auth/auth.schemas.ts';
import type * as routes from './sessions.routes.ts';
import { toSessionResponse } from './sessions.schemas.ts';
import * as service from './sessions.service.ts';

const db = (c: AppContext) => c.get('database').db;

export const refresh: RouteHandler<typeof routes.refresh, AppEnv> = async (c) =>
  c.json(
    toTokenResponse(
      await service.refreshSession(db(c), c.req.valid('json').refresh_token, c.get('config'), requestMeta(c)),
    ),
    200,
  );

export const logout: RouteHandler<typeof routes.logout, AppEnv> = async (c) => {
  await service.logOut(db(c), c.req.valid('json').refresh_token, requestMeta(c));
  return c.body(null, 204);
};

export const logoutAll: RouteHandler<typeof routes.logoutAll, AppEnv> = async (c) => {
  const body = c.req.valid('json') as { include_api_keys?: boolean } | undefined;
  await service.logOutEverywhere(db(c), c.get('caller'), body?.include_api_keys === true);
  return c.body(null, 204);
};

export const list: RouteHandler<typeof routes.listSessions, AppEnv> = async (c) => {
  const page = readPageRequest(c, c.req.valid('query'), service.SESSION_LIST_ORDER);
  const sessions = await service.listSessions(db(c), c.get('caller'), page);
  setPaginationHeaders(c, sessions, page);
  return c.json(
    sessions.items.map((session) => toSessionResponse(session, c.get('sessionId'))),
    200,
  );
};

export const revoke: RouteHandler<typeof routes.revokeSession, AppEnv> = async (c) => {
  await service.revokeSession(db(c), c.get('caller'), c.req.valid('param').id);
  return c.body(null, 204);
};
