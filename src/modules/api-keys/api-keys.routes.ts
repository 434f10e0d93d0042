import { createRoute } from '@hono/zod-openapi';
import { errorResponses, jsonBody, jsonResponse, listResponse } from '../../lib/openapi.ts';
import { signedIn } from '../../middleware/auth.ts';
import {
  ApiKeyParams,
  ApiKeySchema,
  CreateApiKeyBody,
  CreatedApiKeySchema,
  CredentialSchema,
  ListApiKeysQuery,
  MAX_KEY_DAYS,
  UserApiKeyParams,
} from './api-keys.schemas.ts';
import { IdParams } from '../../lib/validation.ts';

// A key can never make, list or revoke keys: these routes take a session only (403 credential_not_allowed).
const withSession = signedIn('api-keys', 'session');
const adminWithSession = signedIn('admin', 'session');

export const createApiKey = createRoute({
  ...withSession,
  operationId: 'createApiKey',
  method: 'post',
  path: '/auth/api-keys',
  summary: 'Make an API key for the caller; the key is answered this once',
  description: `The key acts for the caller as the least of its \`scopes\`, its \`project_ids\` (any other project is 404 to it), its \`max_role\` and the caller's own standing at the time of each request: a demotion, a removal from a project or a deactivation binds the key at once. \`expires_at\` is required, at most ${MAX_KEY_DAYS} days ahead. The \`admin\` scope is for admins, and not with \`project_ids\`. A password change does not end keys; revoke them (or \`POST /auth/logout-all\` with \`include_api_keys\`).`,
  request: { body: jsonBody(CreateApiKeyBody, 'The new key') },
  responses: {
    201: jsonResponse(CreatedApiKeySchema, 'The key, with the key itself'),
    ...errorResponses(401, 403, 409),
  },
});

export const listApiKeys = createRoute({
  ...withSession,
  operationId: 'listApiKeys',
  method: 'get',
  path: '/auth/api-keys',
  summary: "The caller's API keys, newest first (revoked and expired ones included)",
  request: { query: ListApiKeysQuery },
  responses: { 200: listResponse(ApiKeySchema, 'A page of keys'), ...errorResponses(401, 403) },
});

export const revokeApiKey = createRoute({
  ...withSession,
  operationId: 'revokeApiKey',
  method: 'delete',
  path: '/auth/api-keys/{id}',
  summary: "Revoke one of the caller's API keys at once",
  description: 'Its next request is refused (401). Revoking a revoked key changes nothing.',
  request: { params: ApiKeyParams },
  responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
});

export const listUserApiKeys = createRoute({
  ...adminWithSession,
  operationId: 'listUserApiKeys',
  method: 'get',
  path: '/auth/admin/users/{id}/api-keys',
  summary: "A user's API keys, newest first (admins)",
  request: { params: IdParams, query: ListApiKeysQuery },
  responses: { 200: listResponse(ApiKeySchema, 'A page of keys'), ...errorResponses(401, 403, 404) },
});

export const revokeUserApiKey = createRoute({
  ...adminWithSession,
  operationId: 'revokeUserApiKey',
  method: 'delete',
  path: '/auth/admin/users/{id}/api-keys/{key_id}',
  summary: "Revoke a user's API key at once (admins)",
  request: { params: UserApiKeyParams },
  responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
});

export const getCredential = createRoute({
  ...signedIn('api-keys', null),
  operationId: 'getCredential',
  method: 'get',
  path: '/auth/credential',
  summary: 'What the presented credential is: its kind, owner, scopes, projects, role cap and expiry',
  description: 'For a script to check its own key. Any credential may ask.',
  responses: { 200: jsonResponse(CredentialSchema, 'The credential'), ...errorResponses(401, 403) },
});
