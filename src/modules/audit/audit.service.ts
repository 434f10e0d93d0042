import { and, desc, eq, getTableColumns, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/client.ts';
import {
  afterCursor,
  cappedCount,
  pageValues,
  pageWindow,
  regroup,
  sortKeyText,
  type PageValues,
} from '../../db/pagination.ts';
import { auditEvents, projects, tasks, users, type AuditEventRow } from '../../db/schema.ts';
import { FLAG, slots, statement, statementFamily, type ShapeOf, type Slots } from '../../db/statements.ts';
import { actorColumns, callerValues, isCaller, type CallerValues } from '../../db/users.ts';
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

/** The trail's one order, newest first; readPageRequest binds its cursors to each query's filters. */
export const AUDIT_ORDER: ListOrder = { name: 'audit', key: 'timestamp', tie: 'integer' };

const eventColumns = getTableColumns(auditEvents);

/** What both lists' statements differ by: which filters are given, and whether the page starts after a cursor. */
const EVENT_FILTERS = {
  actor: FLAG,
  action: FLAG,
  entity_type: FLAG,
  entity: FLAG,
  project: FLAG,
  since: FLAG,
  until: FLAG,
  after: FLAG,
} as const;
type EventShape = ShapeOf<typeof EVENT_FILTERS>;

const eventShape = (filters: AuditFilters, page: PageRequest): EventShape => ({
  actor: filters.actorId !== undefined,
  action: filters.action !== undefined,
  entity_type: filters.entityType !== undefined,
  entity: filters.entityId !== undefined,
  project: filters.projectId !== undefined,
  since: filters.since !== undefined,
  until: filters.until !== undefined,
  after: page.after !== undefined,
});

const filterValues = (filters: AuditFilters, page: PageRequest) => ({
  actorId: filters.actorId,
  actions: filters.action && `{${actionsMatching(filters.action).join(',')}}`,
  entityType: filters.entityType,
  entityId: filters.entityId,
  projectId: filters.projectId,
  since: filters.since,
  until: filters.until,
  ...pageValues(page),
});
type EventValues = ReturnType<typeof filterValues> & PageValues;

/** The filters given, as conditions on their placeholders. */
function conditions(shape: EventShape, $: Slots<EventValues>): (SQL | undefined)[] {
  return [
    shape.actor ? eq(auditEvents.actorId, $.actorId) : undefined,
    shape.action ? sql`${auditEvents.action} = any(${$.actions}::text[])` : undefined,
    shape.entity_type ? eq(auditEvents.entityType, $.entityType) : undefined,
    shape.entity ? eq(auditEvents.entityId, $.entityId) : undefined,
    shape.project ? eq(auditEvents.projectId, $.projectId) : undefined,
    shape.since ? gte(auditEvents.at, sql`${$.since}::timestamptz`) : undefined,
    shape.until ? lt(auditEvents.at, sql`${$.until}::timestamptz`) : undefined,
  ];
}

/** Whether the event is about a task that is deleted now: its changes show what a viewer may no longer read. */
const taskDeleted = sql<boolean>`(${auditEvents.entityType} = 'task' and exists (select 1 from ${tasks} where ${tasks.id} = ${auditEvents.entityId} and not ${tasks.isActive}))`;

/** One statement's page of events (LATERAL beside an anchor row) and their capped count. */
function eventPage(db: Database, shape: EventShape, $: Slots<EventValues>) {
  const where = conditions(shape, $);
  return {
    page: pageWindow(
      db
        .select({
          ...eventColumns,
          sortKey: sortKeyText(auditEvents.at).as('sort_key'),
          taskDeleted: taskDeleted.as('task_deleted'),
        })
        .from(auditEvents)
        .where(and(...where, shape.after ? afterCursor('desc', auditEvents.at, auditEvents.id) : undefined))
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

const AUDIT_EVENTS = statementFamily('audit', EVENT_FILTERS, slots<EventValues & CallerValues>(), (db, shape, $) => {
  const { page: events, count } = eventPage(db, shape, $);
  return db
    .select({
      event: regroup(eventColumns, events),
      sortKey: events.sortKey,
      taskDeleted: events.taskDeleted,
      total: count,
    })
    .from(anchor)
    .leftJoinLateral(events, sql`true`)
    .where(eq(anchor.id, $.callerId));
});

/** GET /auth/admin/audit (the route has checked that the caller is an admin). */
export async function listAuditEvents(
  db: Database,
  caller: Caller,
  filters: AuditFilters,
  page: PageRequest,
): Promise<Page<ListedEvent>> {
  const rows = await AUDIT_EVENTS.on(db, eventShape(filters, page)).execute({
    ...callerValues(caller),
    ...filterValues(filters, page),
  });
  return toEventPage(rows, page);
}

const PROJECT_ACTIVITY = statementFamily(
  'activity',
  { ...EVENT_FILTERS, project: [true] },
  slots<EventValues & CallerValues & { projectId: string }>(),
  (db, shape, $) => {
    const { page: events, count } = eventPage(db, shape, $);
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
      .leftJoin(projects, eq(projects.id, $.projectId))
      .leftJoin(callerMembership, joinCallerMembership())
      .leftJoinLateral(events, sql`true`)
      .where(isCaller($));
  },
);

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
  const rows = await PROJECT_ACTIVITY.on(db, { ...eventShape(scoped, page), project: true }).execute({
    ...callerValues(caller),
    ...filterValues(scoped, page),
    projectId,
  });
  const standing = standingOf(callerFrom(caller, rows[0]?.actor), rows[0]?.membershipRole);
  requireAccess(rows[0]?.project, standing, 'readActivity');
  return toEventPage(rows, page, !mayDo(standing, 'readDeletedTasks'));
}

const subquery = new QueryBuilder();

const DELETE_EXPIRED_EVENTS = statement(
  'delete_expired_events',
  slots<{ days: number; batchSize: number }>(),
  (db, $) =>
    db
      .delete(auditEvents)
      .where(
        inArray(
          auditEvents.id,
          subquery
            .select({ id: auditEvents.id })
            .from(auditEvents)
            .where(lt(auditEvents.at, sql`now() - make_interval(days => ${$.days}::int)`))
            .orderBy(auditEvents.at, auditEvents.id)
            .limit($.batchSize),
        ),
      )
      .returning({ id: auditEvents.id }),
);

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
    const rows = await DELETE_EXPIRED_EVENTS.on(db).execute({ days: options.days, batchSize: options.batchSize });
    deleted += rows.length;
    if (rows.length < options.batchSize) break;
  }
  return deleted;
}
