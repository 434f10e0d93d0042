import { createRoute } from '@hono/zod-openapi';
import { errorResponses, jsonBody, jsonResponse, listResponse, publicSecurity } from '../../lib/openapi.ts';
import { signedIn } from '../../middleware/auth.ts';
import { limitPerIp } from '../../middleware/rate-limit.ts';
import { RefreshTokenBody, TokenSchema } from '../auth/auth.schemas.ts';
import { ListSessionsQuery, LogOutEverywhereBody, SessionParams, SessionSchema } from './sessions.schemas.ts';

export const refresh = createRoute({
  method: 'post',
  path: '/auth/refresh',
  operationId: 'refreshSession',
  security: publicSecurity,
  tags: ['sessions'],
  summary: 'Exchange a refresh token for a new access token and the next refresh token',
  description:
    'Each refresh token works once. Presenting one that was already exchanged revokes its whole session (its newest token too) and is a 401.',
  middleware: [limitPerIp('refresh')],
  request: { body: jsonBody(RefreshTokenBody, 'The current refresh token') },
  responses: { 200: jsonResponse(TokenSchema, 'The next pair'), ...errorResponses(401, 403, 429) },
});

export const logout = createRoute({
  method: 'post',
  path: '/auth/logout',
  operationId: 'logOut',
  security: publicSecurity,
  tags: ['sessions'],
  summary: "Revoke the refresh token's session",
  description:
    'Its refresh token stops working at once; an access token it issued lives until it expires (use logout-all to end those too). Limited per client address like refresh.',
  middleware: [limitPerIp('logout')],
  request: { body: jsonBody(RefreshTokenBody, 'The current refresh token') },
  responses: { 204: { description: 'Logged out' }, ...errorResponses(401, 403, 429) },
});

export const logoutAll = createRoute({
  method: 'post',
  path: '/auth/logout-all',
  operationId: 'logOutEverywhere',
  ...signedIn('sessions', 'session'),
  summary: 'Revoke every session of the caller; every access token issued so far stops working',
  description:
    'With `{"include_api_keys": true}`, every API key of the caller is revoked too. The body is optional; without it, API keys keep working (as they do through a password change).',
  request: {
    body: {
      required: false,
      description: 'What else to end',
      content: { 'application/json': { schema: LogOutEverywhereBody } },
    },
  },
  responses: { 204: { description: 'Logged out everywhere' }, ...errorResponses(401, 403) },
});

export const listSessions = createRoute({
  method: 'get',
  path: '/auth/sessions',
  operationId: 'listSessions',
  ...signedIn('sessions', 'session'),
  summary: "The caller's live sessions, newest first",
  request: { query: ListSessionsQuery },
  responses: { 200: listResponse(SessionSchema, 'A page of sessions'), ...errorResponses(401, 403) },
});

export const revokeSession = createRoute({
  method: 'delete',
  path: '/auth/sessions/{id}',
  operationId: 'revokeSession',
  ...signedIn('sessions', 'session'),
  summary: "Revoke one of the caller's sessions",
  request: { params: SessionParams },
  responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
});
