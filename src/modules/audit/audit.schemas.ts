import { z } from '@hono/zod-openapi';
import { AUDIT_ACTIONS, type AuditEventRow } from '../../db/schema.ts';
import { PaginationQuery } from '../../lib/pagination.ts';
import { timestamp } from '../../lib/validation.ts';

/** What an event is about. */
export const AUDIT_ENTITY_TYPES = [
  'user',
  'session',
  'api_key',
  'project',
  'member',
  'invitation',
  'state',
  'task',
] as const;

/** `project.*` and the like: every action of one family. */
const FAMILIES = [...new Set(AUDIT_ACTIONS.map((action) => action.slice(0, action.indexOf('.'))))].map(
  (family) => `${family}.*` as const,
);

/** The actions an `action` filter names: itself, or its family's. */
export const actionsMatching = (filter: string): string[] =>
  filter.endsWith('.*') ? AUDIT_ACTIONS.filter((action) => action.startsWith(filter.slice(0, -1))) : [filter];

const uuidFilter = (description: string) => z.uuid('must be a UUID').optional().openapi({ description });

/** An instant with its offset, as PostgreSQL can hold it (years 1 to 9999). */
const instant = (description: string) =>
  z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset, e.g. 2026-11-25T10:00:00Z' })
    .transform((text) => new Date(text))
    .refine(
      (date) => !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1,
      'must be a real date-time between the years 1 and 9999',
    )
    .optional()
    .openapi({ type: 'string', format: 'date-time', description });

const filters = {
  actor_id: uuidFilter('Events by this user'),
  action: z
    .enum(
      [...AUDIT_ACTIONS, ...FAMILIES],
      `must be an audit action (${AUDIT_ACTIONS.join(', ')}) or a family such as project.*`,
    )
    .optional()
    .openapi({ description: 'One action, or a family of them (`project.*`)', example: 'project.*' }),
  entity_type: z
    .enum(AUDIT_ENTITY_TYPES, `must be one of ${AUDIT_ENTITY_TYPES.join(', ')}`)
    .optional()
    .openapi({ description: 'What the events are about' }),
  entity_id: uuidFilter('Events about this user, session, project, member (their user id), state or task'),
  since: instant('Events at or after this instant'),
  until: instant('Events before this instant'),
};

const sinceBeforeUntil = (query: { since?: Date; until?: Date }) =>
  !query.since || !query.until || query.until >= query.since;
const untilMessage = { message: 'must not be before since', path: ['until'] };

export const AdminAuditQuery = PaginationQuery.extend({
  ...filters,
  project_id: uuidFilter("Events in this project's activity"),
}).refine(sinceBeforeUntil, untilMessage);
export const ActivityQuery = PaginationQuery.extend(filters).refine(sinceBeforeUntil, untilMessage);

const ChangeSchema = z.object({ old: z.unknown(), new: z.unknown() }).openapi('AuditChange');

export const AuditEventSchema = z
  .object({
    id: z.number().int().openapi({ example: 4711 }),
    at: timestamp,
    actor_id: z
      .uuid()
      .nullable()
      .openapi({ description: 'Who acted; null for the system, or for a failed login by someone unknown' }),
    action: z.enum(AUDIT_ACTIONS),
    entity_type: z.enum(AUDIT_ENTITY_TYPES),
    entity_id: z
      .uuid()
      .openapi({ description: 'The user, session, project, state or task; for a member, their user id' }),
    project_id: z.uuid().nullable(),
    request_id: z
      .string()
      .nullable()
      .openapi({ description: 'The X-Request-Id of the request that made the change, as in the request logs' }),
    credential: z
      .object({ kind: z.enum(['session', 'api_key']), api_key_id: z.uuid().nullable() })
      .nullable()
      .openapi({
        description:
          'Which credential acted: a session (an access token) or an API key (with its id); null where none did (signup, login, a mailed link, the system) or for events older than keys',
      }),
    ip: z.string().nullable().optional().openapi({ description: "The client's address (admins only)" }),
    user_agent: z.string().nullable().optional().openapi({ description: "The client's User-Agent (admins only)" }),
    changes: z.record(z.string(), ChangeSchema).openapi({
      description: 'Each changed field with its old and new value (never a password, hash or token)',
      example: { name: { old: 'Apollo', new: 'Artemis' } },
    }),
    redacted: z.literal(true).optional().openapi({
      description:
        'Present when `changes` was left out: the event is about a task that is deleted now, which the caller may not read',
    }),
  })
  .openapi('AuditEvent');
export type AuditEventResponse = z.infer<typeof AuditEventSchema>;

/** An event as the API shows it; a project's activity leaves out where the request came from. */
export function toAuditEventResponse(
  event: AuditEventRow & { redacted?: true },
  audience: 'admin' | 'members',
): AuditEventResponse {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor_id: event.actorId,
    action: event.action,
    entity_type: event.entityType as AuditEventResponse['entity_type'],
    entity_id: event.entityId,
    project_id: event.projectId,
    request_id: event.requestId,
    credential: event.credential ? { kind: event.credential, api_key_id: event.apiKeyId } : null,
    ...(audience === 'admin' ? { ip: event.ip, user_agent: event.userAgent } : {}),
    changes: event.changes,
    ...(event.redacted ? { redacted: true as const } : {}),
  };
}
