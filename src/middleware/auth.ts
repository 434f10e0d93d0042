import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppContext, AppEnv } from '../context.ts';
import type { RoleName, UserRow } from '../db/schema.ts';
import { findCaller } from '../db/users.ts';
import { ANY_EPOCH, authorizeActor, hasRole, type Caller, type CredentialRef, type RequestMeta } from '../lib/actor.ts';
import { API_KEY_PREFIX, presentedApiKey, type Scope } from '../lib/api-keys.ts';
import { clientAddress } from '../lib/client-address.ts';
import { verifyAccessToken } from '../lib/jwt.ts';
import { keySecurity, sessionSecurity } from '../lib/openapi.ts';
import { AppError, forbidden, unauthorized } from '../lib/problem.ts';
import { countAgainstQuota } from './quota.ts';
import { recordKeyUse } from '../db/key-use.ts';

const BEARER = /^Bearer +(\S+)$/i;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * What a route lets a credential do: a session only (the session and key routes themselves), any credential
 * (`null`: the caller's own profile, the credential itself), or what an API key needs the scope for.
 */
export type Access = Scope | 'session' | null;

/**
 * The one dependency every protected route uses: a session's access token (signature, issuer, expiry) or an
 * API key (format, checksum, and the scope `access` names), whose user becomes the `caller`. It reads no
 * database; the caller's row is read once per request and checked by `authorizeActor` (401 if the user is
 * gone or the key revoked or expired, 403 if deactivated), so a revocation, deactivation or role change takes
 * effect at once: either alone, through `currentUser`, or in the route's own statement (projects select
 * `actorColumns` beside their data, one statement where it would otherwise be two). Every authenticated
 * request counts against its credential's quota first (middleware/quota.ts).
 */
export const authenticate = (access: Access) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('Authorization');
    if (!header) throw unauthorized('token_missing', 'missing bearer token', { credentialsSent: false });
    const token = BEARER.exec(header.trim())?.[1];
    const key = token?.startsWith(API_KEY_PREFIX) ? await presentedApiKey(token) : undefined;
    if (key === null) throw unauthorized('token_invalid', 'not an API key this API issued (mistyped or truncated)');
    let quota: Record<string, string>;
    if (key) {
      quota = await countAgainstQuota(c, `key:${key.keyId}`);
      setCaller(c, { id: key.userId, tokenEpoch: ANY_EPOCH, key }, { kind: 'api_key', keyId: key.keyId });
    } else {
      if (!token || !JWT.test(token)) {
        throw unauthorized('token_invalid', 'malformed Authorization header; expected "Bearer <token>"');
      }
      const claims = await verifyAccessToken(token, c.get('config').jwt);
      quota = await countAgainstQuota(c, `user:${claims.userId}`);
      setCaller(c, { id: claims.userId, tokenEpoch: claims.tokenEpoch }, { kind: 'session' });
      c.set('sessionId', claims.sessionId);
      c.set('tokenExpiresAtMs', claims.expiresAtMs);
    }
    try {
      if (key && access === 'session') {
        throw forbidden('credential_not_allowed', 'this route takes a session (an access token), not an API key');
      }
      if (key && access !== null && access !== 'session' && !key.scopes.includes(access)) {
        throw forbidden('scope_required', `this action needs an API key with the ${access} scope`);
      }
      await next();
    } catch (error) {
      if (error instanceof AppError) Object.assign(error.headers, quota);
      throw error;
    }
    for (const [name, value] of Object.entries(quota)) c.res.headers.set(name, value);
    // A key the database refused (unknown, revoked, expired) was not used.
    if (key && c.res.status !== 401) recordKeyUse(c, key);
  });

function setCaller(c: AppContext, caller: Omit<Caller, 'request'>, credential: CredentialRef) {
  c.set('caller', { ...caller, request: { ...requestMeta(c), credential } });
}

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
 * What every route behind a bearer token declares beside its own parts: its OpenAPI tag, the credentials it
 * takes (`access`, published as `security` and `x-required-scope`), and `authenticate` before any further
 * check (`also`, e.g. `requireRole('admin')`).
 */
export const signedIn = (tag: string, access: Access, ...also: MiddlewareHandler<AppEnv>[]) => ({
  tags: [tag],
  security: access === 'session' ? sessionSecurity : keySecurity,
  ...(access !== 'session' && access !== null ? { 'x-required-scope': access } : {}),
  middleware: [authenticate(access), ...also],
});
