import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';
import type { RoleName } from '../db/schema.ts';
import { verifyAccessToken } from '../lib/jwt.ts';
import { forbidden, unauthorized } from '../lib/problem.ts';
import { findUserById } from '../db/users.ts';

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

/**
 * The one dependency every protected route uses. The user is loaded on every request, so a
 * deactivation or a role change takes effect at once rather than when the token expires.
 */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('Authorization');
  if (!header) throw unauthorized('missing bearer token', { credentialsSent: false });
  const match = BEARER.exec(header.trim());
  if (!match) throw unauthorized('malformed Authorization header; expected "Bearer <token>"');

  const config = c.get('config');
  const userId = await verifyAccessToken(match[1]!, config.jwt);
  const user = await findUserById(c.get('database').db, userId);
  if (!user) throw unauthorized('invalid token');
  if (!user.isActive) throw forbidden('this account is inactive');
  c.set('currentUser', user);
  await next();
});

/** Runs after `requireAuth`; checks the role as it is in the database now. */
export const requireRole = (role: RoleName) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.get('currentUser').role !== role) throw forbidden(`this action requires the ${role} role`);
    await next();
  });
