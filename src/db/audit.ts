import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { RequestMeta } from '../lib/actor.ts';
import type { Database } from './client.ts';
import type { Slots } from './statements.ts';
import { auditEvents, type AuditAction } from './schema.ts';

/*
 * The audit trail's write side, one piece for every module: an event is written by the statement (or the
 * transaction) that makes its change, so there is no change without its event and no event without its
 * change. In a statement, `auditOf` is a CTE fed by the changed rows; in a transaction, `auditInsertPerCall`.
 * The actor and the request come from the statement's `callerValues` placeholders.
 */

/** One field of a change: its name, its value before (null for a created row) and after (null for a removed one). */
export type AuditField = readonly [name: string, before: SQLWrapper | null, after: SQLWrapper | null];

/** `{"field": {"old": ..., "new": ...}}` for each field whose value changed, as a jsonb expression. */
export function changesOf(fields: readonly AuditField[]): SQL {
  const entries = fields.map(([name, before, after]) => {
    const old = before ?? sql`null::text`;
    const now = after ?? sql`null::text`;
    return sql`${sql.raw(`'${name}'`)}, case
      when ${before ?? sql`null`} is distinct from ${after ?? sql`null`}
      then jsonb_build_object('old', to_jsonb(${old}), 'new', to_jsonb(${now}))
    end`;
  });
  return sql`(
    select coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
    from jsonb_each(jsonb_build_object(${sql.join(entries, sql`, `)}))
    where value <> 'null'::jsonb
  )`;
}

/**
 * What an audited statement changed, one event per row of `from` (a CTE of the changed rows, or a select
 * of them): the entity's id, its project (none for users and sessions) and the changes, each an expression
 * over `from`'s columns (`changed.id`, `changed.oldTitle`), never a column's name in a string.
 */
export interface AuditedRows {
  from: SQLWrapper;
  entityId: SQLWrapper;
  projectId: SQLWrapper | null;
  changes: SQL;
  /** Who acted, if not the caller (`$.callerId`): a login names the user it found. */
  actor?: SQLWrapper;
}

/**
 * An audit event per audited row, as the body of a CTE: `db.$with('audit', {}).as(auditOf($, ...))`.
 * drizzle's insert-from-select wants every column, the serial id included, so this one piece is written as
 * SQL. The request comes from the statement's `requestValues` (or `callerValues`) placeholders.
 */
export const auditOf = ($: Slots<RequestValues>, action: AuditAction, entityType: string, rows: AuditedRows): SQL =>
  sql`insert into ${auditEvents}
        (actor_id, action, entity_type, entity_id, project_id, request_id, ip, user_agent, credential, api_key_id, changes)
      select
        ${rows.actor ?? sql`${$.callerId}::uuid`}, ${sql.raw(`'${action}'`)}, ${sql.raw(`'${entityType}'`)},
        ${rows.entityId}, ${rows.projectId ?? sql`null::uuid`},
        ${$.requestId}::text, ${$.clientIp}::text, ${$.userAgent}::text,
        ${$.credential}::text, ${$.credentialKeyId}::uuid, ${rows.changes}
      from ${rows.from}`;

export type RequestValues = ReturnType<typeof requestValues>;

/** The placeholder values `auditOf` fills in: the request, and the actor unless the statement names one. */
export const requestValues = (request: RequestMeta | null, actorId: string | null = null) => ({
  callerId: actorId,
  requestId: request?.id ?? null,
  clientIp: request?.ip ?? null,
  userAgent: request?.userAgent ?? null,
  credential: request?.credential?.kind ?? null,
  credentialKeyId: request?.credential?.kind === 'api_key' ? request.credential.keyId : null,
});

/** Who acts (null: the system, or someone unknown, as for a failed login) and through which request. */
type Actor = { id: string | null; request: RequestMeta | null };

export interface AuditEvent {
  action: AuditAction;
  entityType: string;
  entityId: string;
  projectId?: string | null;
  changes: Record<string, { old: unknown; new: unknown }>;
}

/**
 * One event, as an INSERT to await inside the transaction that makes its change (workflow changes,
 * transfers, admin changes) or to run as a CTE of the statement that makes it.
 */
export const auditInsertPerCall = (db: Database, actor: Actor, event: AuditEvent) =>
  db.insert(auditEvents).values({
    actorId: actor.id,
    action: event.action,
    entityType: event.entityType,
    entityId: event.entityId,
    projectId: event.projectId ?? null,
    requestId: actor.request?.id ?? null,
    ip: actor.request?.ip ?? null,
    userAgent: actor.request?.userAgent ?? null,
    credential: actor.request?.credential?.kind ?? null,
    apiKeyId: actor.request?.credential?.kind === 'api_key' ? actor.request.credential.keyId : null,
    changes: event.changes,
  });

/** A change as `auditInsertPerCall` takes it, from values known in the code: only the fields that differ. */
export function changedValues(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, { old: unknown; new: unknown }> {
  return Object.fromEntries(
    [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((key) => JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null))
      .map((key) => [key, { old: before[key] ?? null, new: after[key] ?? null }]),
  );
}
