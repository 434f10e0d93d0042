import type { RouteHandler } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../../context.ts';
import { readPageRequest, setPaginationHeaders } from '../../lib/pagination.ts';

type PageQuery = Parameters<typeof readPageRequest>[1];
import type * as routes from './api-keys.routes.ts';
import { toApiKeyResponse } from './api-keys.schemas.ts';
import * as service from './api-keys.service.ts';

const db = (c: AppContext) => c.get('database').db;

export const create: RouteHandler<typeof routes.createApiKey, AppEnv> = async (c) => {
  const made = await service.createApiKey(db(c), c.get('caller'), c.req.valid('json'), c.get('config'));
  // Shown once: never cached anywhere on the way.
  c.header('Cache-Control', 'no-store');
  return c.json({ ...toApiKeyResponse(made.view), key: made.key }, 201);
};

/** A page of the keys of `userId` (an admin's view), or of the caller's own. */
async function keyPage(c: AppContext, query: PageQuery, userId?: string) {
  const page = readPageRequest(c, query, service.API_KEY_LIST_ORDER);
  const keys = await service.listApiKeys(db(c), c.get('caller'), page, userId);
  setPaginationHeaders(c, keys, page);
  return keys.items.map(toApiKeyResponse);
}

export const list: RouteHandler<typeof routes.listApiKeys, AppEnv> = async (c) =>
  c.json(await keyPage(c, c.req.valid('query')), 200);

export const revoke: RouteHandler<typeof routes.revokeApiKey, AppEnv> = async (c) => {
  await service.revokeApiKey(db(c), c.get('caller'), c.req.valid('param').id);
  return c.body(null, 204);
};

export const listOfUser: RouteHandler<typeof routes.listUserApiKeys, AppEnv> = async (c) =>
  c.json(await keyPage(c, c.req.valid('query'), c.req.valid('param').id), 200);

export const revokeOfUser: RouteHandler<typeof routes.revokeUserApiKey, AppEnv> = async (c) => {
  const { id, key_id: keyId } = c.req.valid('param');
  await service.revokeApiKey(db(c), c.get('caller'), keyId, id);
  return c.body(null, 204);
};

export const credential: RouteHandler<typeof routes.getCredential, AppEnv> = async (c) => {
  const caller = c.get('caller');
  const { email, scopes, key } = await service.describeCredential(db(c), caller);
  return c.json(
    {
      kind: caller.key ? ('api_key' as const) : ('session' as const),
      user_id: caller.id,
      email,
      api_key_id: caller.key?.keyId ?? null,
      name: key?.name ?? null,
      scopes,
      project_ids: key?.projectIds ?? null,
      max_role: caller.key?.maxRole ?? null,
      expires_at: (key ? key.expiresAt : new Date(c.get('tokenExpiresAtMs'))).toISOString(),
    },
    200,
  );
};
