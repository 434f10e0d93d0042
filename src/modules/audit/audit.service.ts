import { and, desc, eq, getTableColumns, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import { prepared, type Database } from '../../db/client.ts';
import { afterCursor, cappedCount, pageValues, pageWindow, regroup, sortKeyText } from '../../db/pagination.ts';
import { auditEvents, projects, tasks, users, type AuditEventRow } from '../../db/schema.ts';
import { actorColumns, callerValues, isCaller } from '../../db/users.ts';
import type { Caller } from '../../lib/actor.ts';
import { toPage, type ListOrder, type Page, type PageRequest } from '../../lib/pagination.ts';
import { mayDo, requireAccess } from '../projects/access.ts';
import { callerFrom, callerMembership, joinCallerMembership, standingOf } from '../projects/standing.ts';
import { actionsMatching } from './audit.schemas.ts';

/*
 * Reading the audit trail (db/audit.ts writes it): newest first by (at, id), paged by keyset, so a page
 * starts where the last one ended however many events arrive meanwhile. Cursors are signed and bound to
 * their query, as every list's (lib/pagination.ts): from another query, or edited, they are a 422.
 */

export interface AuditFilters {
  actorId?: string;
  action?: string;
  entityType?: string;
  entityId?: string;
  projectId?: string;
  since?: Date;
  until?: Date;
}

const FILTERS = ['actorId', 'action', 'entityType', 'entityId', 'projectId', 'since', 'until'] as const;

/** The trail's one order, newest first; readPageRequest binds its cursors to each query's filters. */
export const AUDIT_ORDER: ListOrder = { name: 'audit', key: 'timestamp', tie: 'integer' };

const eventColumns = getTableColumns(auditEvents);

/** The filters present, as conditions on placeholders named like them. */
function conditions(filters: AuditFilters): SQL[] {
  const column = {
    actorId: auditEvents.actorId,
    entityType: auditEvents.entityType,
    entityId: auditEvents.entityId,
    projectId: auditEvents.projectId,
  };
  return FILTERS.flatMap((name): SQL[] => {
    if (filters[name] === undefined) return [];
    if (name === 'action') return [sql`${auditEvents.action} = any(${sql.placeholder('actions')}::text[])`];
    if (name === 'since') return [gte(auditEvents.at, sql`${sql.placeholder('since')}::timestamptz`)];
    if (name === 'until') return [lt(auditEvents.at, sql`${sql.placeholder('until')}::timestamptz`)];
    return [eq(column[name], sql.placeholder(name))];
  });
}

const filterValues = (filters: AuditFilters) => ({
  ...filters,
  actions: filters.action && `{${actionsMatching(filters.action).join(',')}}`,
});

/** Whether the event is about a task that is deleted now: its changes show what a viewer may no longer read. */
const taskDeleted = sql<boolean>`(${auditEvents.entityType} = 'task' and exists (select 1 from ${tasks} where ${tasks.id} = ${auditEvents.entityId} and not ${tasks.isActive}))`;

/** One statement's page of events (LATERAL beside an anchor row) and their capped count. */
function eventPage(db: Database, filters: AuditFilters, page: PageRequest) {
  const where = conditions(filters);
  return {
    page: pageWindow(
      db
        .select({
          ...eventColumns,
          sortKey: sortKeyText(auditEvents.at).as('sort_key'),
          taskDeleted: taskDeleted.as('task_deleted'),
        })
        .from(auditEvents)
        .where(and(...where, page.after && afterCursor('desc', auditEvents.at, auditEvents.id)))
        .orderBy(desc(auditEvents.at), desc(auditEvents.id))
        .$dynamic(),
    ).as('page'),
    count: cappedCount(
      db
        .select({ one: sql`1` })
        .from(auditEvents)
        .where(and(...where))
        .$dynamic(),
    ),
  };
}

/** A statement's name: one per combination of filters present. */
const shapeOf = (scope: string, filters: AuditFilters, page: PageRequest) =>
  `${scope}:${FILTERS.map((name) => (filters[name] === undefined ? '-' : name)).join(',')}:${page.after ? 'after' : 'start'}`;

type EventRow = { event: AuditEventRow | null; sortKey: string | null; taskDeleted: boolean | null; total: number };
/** An event as listed; `redacted` when its changes were left out for the caller. */
export type ListedEvent = AuditEventRow & { redacted?: true };

/** The page; `redactDeletedTasks`: the changes of events about deleted tasks are left out (a viewer's activity feed). */
function toEventPage(rows: EventRow[], page: PageRequest, redactDeletedTasks = false): Page<ListedEvent> {
  return toPage(
    rows.filter((row) => row.event !== null),
    page,
    {
      count: rows[0]?.total ?? 0,
      item: (row): ListedEvent =>
        redactDeletedTasks && row.taskDeleted ? { ...row.event!, changes: {}, redacted: true } : row.event!,
      key: (row) => [row.sortKey!, String(row.event!.id)],
    },
  );
}

const anchor = alias(users, 'anchor');

/** GET /auth/admin/audit (the route has checked that the caller is an admin). */
export async function listAuditEvents(
  db: Database,
  caller: Caller,
  filters: AuditFilters,
  page: PageRequest,
): Promise<Page<ListedEvent>> {
  const shape = shapeOf('audit', filters, page);
  const statement = prepared(db, shape, () => {
    const { page: events, count } = eventPage(db, filters, page);
    return db
      .select({
        event: regroup(eventColumns, events),
        sortKey: events.sortKey,
        taskDeleted: events.taskDeleted,
        total: count,
      })
      .from(anchor)
      .leftJoinLateral(events, sql`true`)
      .where(eq(anchor.id, sql.placeholder('callerId')));
  });
  const rows = await statement.execute({ ...callerValues(caller), ...filterValues(filters), ...pageValues(page) });
  return toEventPage(rows, page);
}

/**
 * GET /projects/{id}/activity: any member (404 for anyone else), in one statement with the caller's
 * standing. Events of deleted tasks keep their changes (titles, descriptions) from those who may not read
 * deleted tasks, as GET /tasks/{id} hides the task itself.
 */
export async function listProjectActivity(
  db: Database,
  caller: Caller,
  projectId: string,
  filters: Omit<AuditFilters, 'projectId'>,
  page: PageRequest,
): Promise<Page<ListedEvent>> {
  const scoped = { ...filters, projectId };
  const shape = shapeOf('activity', scoped, page);
  const statement = prepared(db, shape, () => {
    const { page: events, count } = eventPage(db, scoped, page);
    return db
      .select({
        actor: actorColumns,
        project: { id: projects.id, deletedAt: projects.deletedAt },
        membershipRole: callerMembership.role,
        event: regroup(eventColumns, events),
        sortKey: events.sortKey,
        taskDeleted: events.taskDeleted,
        total: count,
      })
      .from(users)
      .leftJoin(projects, eq(projects.id, sql.placeholder('projectId')))
      .leftJoin(callerMembership, joinCallerMembership())
      .leftJoinLateral(events, sql`true`)
      .where(isCaller);
  });
  const rows = await statement.execute({ ...callerValues(caller), ...filterValues(scoped), ...pageValues(page) });
  const standing = standingOf(callerFrom(caller, rows[0]?.actor), rows[0]?.membershipRole);
  requireAccess(rows[0]?.project, standing, 'readProject');
  return toEventPage(rows, page, !mayDo(standing, 'readDeletedTasks'));
}

const subquery = new QueryBuilder();

/**
 * Retention: deletes events older than `days`, `batchSize` at a time (oldest first, through the (at, id)
 * index), so no statement holds locks or builds WAL for long. Stops after `maxBatches`, leaving the rest
 * to the next run. Returns how many were deleted.
 */
export async function deleteExpiredEvents(
  db: Database,
  options: { days: number; batchSize: number; maxBatches: number },
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < options.maxBatches; batch++) {
    const doomed = subquery
      .select({ id: auditEvents.id })
      .from(auditEvents)
      .where(lt(auditEvents.at, sql`now() - make_interval(days => ${options.days})`))
      .orderBy(auditEvents.at, auditEvents.id)
      .limit(options.batchSize);
    const rows = await db.delete(auditEvents).where(inArray(auditEvents.id, doomed)).returning({ id: auditEvents.id });
    deleted += rows.length;
    if (rows.length < options.batchSize) break;
  }
  return deleted;
}
