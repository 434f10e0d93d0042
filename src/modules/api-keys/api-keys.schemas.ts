import { z } from '@hono/zod-openapi';
import type { ApiKeyRow } from '../../db/api-key-schema.ts';
import { KEY_MAX_ROLES, SCOPES } from '../../lib/api-keys.ts';
import { PaginationQuery } from '../../lib/pagination.ts';
import { singleLineText, timestamp } from '../../lib/validation.ts';

/** The longest a key may live, and the most projects it may name. */
export const MAX_KEY_DAYS = 366;
export const MAX_KEY_PROJECTS = 100;

const scopes = z.array(z.enum(SCOPES)).openapi({
  description: `What the key may do: ${SCOPES.map((scope) => `\`${scope}\``).join(', ')}. Each route that takes a key names the one it needs (\`x-required-scope\`).`,
  example: ['projects:read', 'tasks:read', 'tasks:write'],
});

/** An API key as lists show it: never the key itself, which only its creation answers, once. */
export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string().openapi({ example: 'CI deploys' }),
    prefix: z
      .string()
      .openapi({ description: 'The first characters of the key, to recognise it by', example: 'afk_3kTz9QpA' }),
    scopes,
    project_ids: z
      .array(z.uuid())
      .nullable()
      .openapi({ description: 'The projects the key is limited to; null: every project its owner is in' }),
    max_role: z
      .enum(KEY_MAX_ROLES)
      .nullable()
      .openapi({ description: 'The highest project role the key acts with; null: its owner’s own' }),
    created_at: timestamp,
    expires_at: timestamp,
    last_used_at: timestamp.nullable().openapi({ description: 'At most a minute stale' }),
    last_used_ip: z.string().nullable(),
    revoked_at: timestamp.nullable(),
  })
  .openapi('ApiKey');

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({
    description: 'The key: shown this once and never again (only its SHA-256 digest is kept)',
    example: 'afk_3kTz9QpA...',
  }),
}).openapi('CreatedApiKey');

export const CreateApiKeyBody = z
  .object({
    name: singleLineText(1, 100),
    scopes: scopes
      .min(1, 'must name at least one scope')
      .refine((list) => new Set(list).size === list.length, 'must not repeat a scope'),
    project_ids: z
      .array(z.uuid('must be a UUID'))
      .min(1, 'must name at least one project (leave it out for every project)')
      .max(MAX_KEY_PROJECTS, `must name at most ${MAX_KEY_PROJECTS} projects`)
      .refine((list) => new Set(list).size === list.length, 'must not repeat a project')
      .optional(),
    max_role: z.enum(KEY_MAX_ROLES).optional(),
    expires_at: timestamp
      .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
      .refine(
        (value) => Date.parse(value) <= Date.now() + MAX_KEY_DAYS * 86_400_000,
        `must be at most ${MAX_KEY_DAYS} days ahead`,
      )
      .openapi({ description: `Required: when the key stops working, at most ${MAX_KEY_DAYS} days ahead` }),
  })
  .refine((body) => !(body.scopes.includes('admin') && body.project_ids), {
    path: ['project_ids'],
    message: 'a key with the admin scope reaches beyond any project, so it cannot be limited to some',
  });
export type CreateApiKeyInput = z.infer<typeof CreateApiKeyBody>;

export const ListApiKeysQuery = PaginationQuery;

export const ApiKeyParams = z.object({
  id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'id', in: 'path' }, example: '5d1e8c2a-7b3f-4e6d-9a1c-2b3d4e5f6a7b' }),
});
export const UserApiKeyParams = z.object({
  id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'id', in: 'path' }, example: '0b7e7a5c-8f1e-4d3a-9a55-2f6c1d9e4b21' }),
  key_id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'key_id', in: 'path' }, example: '5d1e8c2a-7b3f-4e6d-9a1c-2b3d4e5f6a7b' }),
});

export type ApiKeyView = Omit<ApiKeyRow, 'keyHash' | 'userId'>;

export const toApiKeyResponse = (key: ApiKeyView): z.infer<typeof ApiKeySchema> => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes,
  project_ids: key.projectIds,
  max_role: key.maxRole,
  created_at: key.createdAt.toISOString(),
  expires_at: key.expiresAt.toISOString(),
  last_used_at: key.lastUsedAt?.toISOString() ?? null,
  last_used_ip: key.lastUsedIp,
  revoked_at: key.revokedAt?.toISOString() ?? null,
});

/** GET /auth/credential: what the presented credential is. */
export const CredentialSchema = z
  .object({
    kind: z.enum(['session', 'api_key']),
    user_id: z.uuid(),
    email: z.string(),
    api_key_id: z.uuid().nullable().openapi({ description: 'The key (kind `api_key`)' }),
    name: z.string().nullable().openapi({ description: "The key's name (kind `api_key`)" }),
    scopes: scopes.openapi({ description: 'What the credential may do; a session may do everything its user may' }),
    project_ids: z.array(z.uuid()).nullable().openapi({ description: 'The projects a key is limited to; null: all' }),
    max_role: z.enum(KEY_MAX_ROLES).nullable(),
    expires_at: timestamp.openapi({ description: 'When the key, or the access token, stops working' }),
  })
  .openapi('Credential');
