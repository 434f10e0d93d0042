import { createRoute } from '@hono/zod-openapi';
import { errorResponses, listResponse } from '../../lib/openapi.ts';
import { IdParams } from '../../lib/validation.ts';
import { requireRole, signedIn } from '../../middleware/auth.ts';
import { projectRoute } from '../projects/project-route.ts';
import { ActivityQuery, AdminAuditQuery, AuditEventSchema } from './audit.schemas.ts';

export const listAuditEvents = createRoute({
  ...signedIn('admin', 'admin', requireRole('admin')),
  operationId: 'listAuditEvents',
  method: 'get',
  path: '/auth/admin/audit',
  summary: 'The audit trail: who changed what, when, from what to what (admins)',
  description:
    'Newest first. Filters combine; `action` takes one action or a family (`task.*`); `since` is inclusive, `until` exclusive. Page with the `cursor` of `Link: rel="next"`: a cursor is good only for the query that issued it.',
  request: { query: AdminAuditQuery },
  responses: { 200: listResponse(AuditEventSchema, 'A page of events'), ...errorResponses(401, 403) },
});

export const listProjectActivity = createRoute({
  operationId: 'listProjectActivity',
  method: 'get',
  path: '/projects/{id}/activity',
  ...projectRoute(
    'projects',
    'readActivity',
    "A project's activity: changes to it, its members, states and tasks",
    'The audit events of one project, newest first, with the same filters and pagination as the admin audit (without the client address and user agent).',
  ),
  request: { params: IdParams, query: ActivityQuery },
  responses: { 200: listResponse(AuditEventSchema, 'A page of events'), ...errorResponses(401, 403, 404) },
});
