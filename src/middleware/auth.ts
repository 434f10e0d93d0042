import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppContext, AppEnv } from '../context.ts';
import type { RoleName, UserRow } from '../db/schema.ts';
import { findCaller } from '../db/users.ts';
import { authorizeActor, hasRole, type RequestMeta } from '../lib/actor.ts';
import { clientAddress } from '../lib/client-address.ts';
import { verifyAccessToken } from '../lib/jwt.ts';
import { bearerSecurity } from '../lib/openapi.ts';
import { forbidden, unauthorized } from '../lib/problem.ts';

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

/**
 * The one dependency every protected route uses: a valid bearer token (signature, issuer, expiry), whose
 * subject and epoch become the `caller`. It reads no database. The caller's row is read once per request and checked
 * by `authorizeActor` (401 if the user is gone, 403 if deactivated), so a deactivation or a role change
 * takes effect at once: either alone, through `currentUser`, or in the route's own statement (projects
 * select `actorColumns` beside their data, one statement where it would otherwise be two).
 */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('Authorization');
  if (!header) throw unauthorized('token_missing', 'missing bearer token', { credentialsSent: false });
  const match = BEARER.exec(header.trim());
  if (!match) throw unauthorized('token_invalid', 'malformed Authorization header; expected "Bearer <token>"');
  const claims = await verifyAccessToken(match[1]!, c.get('config').jwt);
  c.set('caller', { id: claims.userId, tokenEpoch: claims.tokenEpoch, request: requestMeta(c) });
  c.set('sessionId', claims.sessionId);
  await next();
});

/** The request as the audit trail records it: its id, the client's address as far as it is known, and its user agent (bounded). */
export const requestMeta = (c: AppContext): RequestMeta => ({
  id: c.get('requestId') ?? null,
  ip: clientAddress(c.req.raw, c.get('config').appEnv),
  userAgent: c.req.header('User-Agent')?.slice(0, 512) ?? null,
});

/** The caller's whole row, read alone and checked, at most once per request. */
export function currentUser(c: AppContext): Promise<UserRow> {
  let user = c.get('currentUser');
  if (!user) {
    user = findCaller(c.get('database').db, c.get('caller')).then(authorizeActor);
    c.set('currentUser', user);
  }
  return user;
}

/** Runs after `requireAuth`; checks the role as it is in the database now. */
export const requireRole = (role: RoleName) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!hasRole(await currentUser(c), role)) throw forbidden('role_required', `this action requires the ${role} role`);
    await next();
  });

/**
 * What every route behind a bearer token declares beside its own parts: its OpenAPI tag and security, and
 * `requireAuth` before any further check (`also`, e.g. `requireRole('admin')`).
 */
export const signedIn = (tag: string, ...also: MiddlewareHandler<AppEnv>[]) => ({
  tags: [tag],
  security: bearerSecurity,
  middleware: [requireAuth, ...also],
});
