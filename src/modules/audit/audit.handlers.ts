import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../context.ts';
import { readPageRequest, setPaginationHeaders } from '../../lib/pagination.ts';
import type * as routes from './audit.routes.ts';
import { toAuditEventResponse } from './audit.schemas.ts';
import * as service from './audit.service.ts';

type Query = {
  actor_id?: string;
  action?: string;
  entity_type?: string;
  entity_id?: string;
  since?: Date;
  until?: Date;
  limit: number;
  offset: number;
  cursor?: string;
};

const filtersOf = (query: Query): service.AuditFilters => ({
  actorId: query.actor_id,
  action: query.action,
  entityType: query.entity_type,
  entityId: query.entity_id,
  since: query.since,
  until: query.until,
});

export const listAudit: RouteHandler<typeof routes.listAuditEvents, AppEnv> = async (c) => {
  const query = c.req.valid('query');
  const filters = { ...filtersOf(query), projectId: query.project_id };
  const page = readPageRequest(c, query, service.AUDIT_ORDER);
  const events = await service.listAuditEvents(c.get('database').db, c.get('caller'), filters, page);
  setPaginationHeaders(c, events, page);
  return c.json(
    events.items.map((event) => toAuditEventResponse(event, 'admin')),
    200,
  );
};

export const listActivity: RouteHandler<typeof routes.listProjectActivity, AppEnv> = async (c) => {
  const query = c.req.valid('query');
  const projectId = c.req.valid('param').id;
  const filters = filtersOf(query);
  const page = readPageRequest(c, query, service.AUDIT_ORDER);
  const events = await service.listProjectActivity(c.get('database').db, c.get('caller'), projectId, filters, page);
  setPaginationHeaders(c, events, page);
  return c.json(
    events.items.map((event) => toAuditEventResponse(event, 'members')),
    200,
  );
};
