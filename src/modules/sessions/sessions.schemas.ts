import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../lib/pagination.ts';
import { timestamp } from '../../lib/validation.ts';
import type { SessionView } from './sessions.service.ts';

export const SessionSchema = z
  .object({
    id: z.uuid(),
    created_at: timestamp,
    last_used_at: timestamp,
    user_agent: z.string().nullable(),
    ip: z.string().nullable(),
    current: z.boolean().openapi({ description: 'The session of the access token that asked' }),
  })
  .openapi('Session');

export function toSessionResponse(session: SessionView, currentSessionId: string): z.infer<typeof SessionSchema> {
  return {
    id: session.id,
    created_at: session.createdAt.toISOString(),
    last_used_at: session.lastUsedAt.toISOString(),
    user_agent: session.userAgent,
    ip: session.ip,
    current: session.id === currentSessionId,
  };
}

export const ListSessionsQuery = PaginationQuery;
export const SessionParams = z.object({
  id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'id', in: 'path' }, example: '2b1c0d9e-8f7a-4b6c-9d5e-4f3a2b1c0d9e' }),
});

export const LogOutEverywhereBody = z
  .object({
    include_api_keys: z
      .boolean()
      .default(false)
      .openapi({ description: 'Revoke every API key of the caller too (default false: keys keep working)' }),
  })
  .openapi('LogOutEverywhere');
