import { and, desc, eq, getTableColumns, isNull, sql, type SQLWrapper } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import type { AppConfig } from '../../config.ts';
import { apiKeys, type ApiKeyRow } from '../../db/api-key-schema.ts';
import { auditOf, changesOf, requestValues, type RequestValues } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { lockedRow, type GuardedWrite } from '../../db/guards.ts';
import {
  afterCursor,
  cappedCount,
  pageValues,
  pageWindow,
  regroup,
  sortKeyText,
  type PageValues,
} from '../../db/pagination.ts';
import { users } from '../../db/schema.ts';
import { FLAG, slots, statement, statementFamily, type Slots } from '../../db/statements.ts';
import {
  actorColumns,
  callerFactsQuery,
  callerIsAdmin,
  callerValues,
  isCaller,
  type CallerValues,
} from '../../db/users.ts';
import { authorizeActor, isAdmin, type Caller, type RequestMeta } from '../../lib/actor.ts';
import { newApiKey, SCOPES, type KeyMaxRole, type Scope } from '../../lib/api-keys.ts';
import { toPage, type ListOrder, type Page, type PageRequest } from '../../lib/pagination.ts';
import { forbidden, notFound } from '../../lib/problem.ts';
import { CREATE_KEY, namedKey, REVOKE_ANY_KEY, REVOKE_OWN_KEY, type NewKeyLimits } from './api-keys.guards.ts';
import type { ApiKeyView, CreateApiKeyInput } from './api-keys.schemas.ts';

/*
 * API keys (lib/api-keys.ts): made, listed and revoked with a session only (the routes say so), each in one
 * statement with its audit event. The key itself is answered once, at creation; the database keeps its digest.
 */

const subquery = new QueryBuilder();
const { keyHash: _keyHash, userId: _userId, ...keyColumns } = getTableColumns(apiKeys);

/** An array of validated values (scopes, UUIDs) as the PostgreSQL array literal a placeholder carries. */
const arrayLiteral = (values: readonly string[] | undefined) => (values ? `{${values.join(',')}}` : null);

type NewKeyValues = CallerValues &
  NewKeyLimits & {
    newKeyId: string;
    newKeyHash: string;
    prefix: string;
    name: string;
    scopes: string;
    maxRole: KeyMaxRole | null;
    expiresAt: string;
  };

const CREATE_API_KEY = statement('create_api_key', slots<NewKeyValues>(), (db, $) => {
  const facts = db.$with('facts').as(callerFactsQuery(db, $, CREATE_KEY, {}));
  const created = db.$with('created').as(
    db
      .insert(apiKeys)
      .select(
        subquery
          .select({
            id: sql<string>`${$.newKeyId}::uuid`.as('id'),
            userId: sql<string>`${facts.callerId}`.as('user_id'),
            name: sql<string>`${$.name}::text`.as('name'),
            keyHash: sql<string>`${$.newKeyHash}::text`.as('key_hash'),
            prefix: sql<string>`${$.prefix}::text`.as('prefix'),
            scopes: sql<Scope[]>`${$.scopes}::text[]`.as('scopes'),
            projectIds: sql<string[] | null>`${$.projectIds}::uuid[]`.as('project_ids'),
            maxRole: sql<KeyMaxRole | null>`${$.maxRole}::text`.as('max_role'),
            createdAt: sql<Date>`now()`.as('created_at'),
            expiresAt: sql<Date>`${$.expiresAt}::timestamptz`.as('expires_at'),
            lastUsedAt: sql<Date | null>`null::timestamptz`.as('last_used_at'),
            lastUsedIp: sql<string | null>`null::text`.as('last_used_ip'),
            revokedAt: sql<Date | null>`null::timestamptz`.as('revoked_at'),
          })
          .from(facts)
          .where(CREATE_KEY.allHold(facts)),
      )
      .returning(),
  );
  const audit = db.$with('audit', {}).as(
    auditOf($, 'api_key.create', 'api_key', {
      from: created,
      entityId: created.id,
      projectId: null,
      changes: changesOf([
        ['name', null, created.name],
        ['scopes', null, created.scopes],
        ['project_ids', null, created.projectIds],
        ['max_role', null, created.maxRole],
        ['expires_at', null, created.expiresAt],
      ]),
    }),
  );
  return db
    .with(facts, created, audit)
    .select({ guards: CREATE_KEY.results(facts), key: regroup(keyColumns, created) })
    .from(facts)
    .leftJoin(created, sql`true`);
});

/** POST /auth/api-keys: a new key for the caller, and the key itself, which nothing will show again. */
export async function createApiKey(
  db: Database,
  caller: Caller,
  input: CreateApiKeyInput,
  config: AppConfig,
): Promise<{ key: string; view: ApiKeyView }> {
  const maxRole = input.max_role ?? null;
  const made = await newApiKey(caller.id, { scopes: input.scopes, maxRole });
  const row = await CREATE_KEY.run(
    CREATE_API_KEY.on(db).execute({
      ...callerValues(caller),
      newKeyId: made.keyId,
      newKeyHash: made.keyHash,
      prefix: made.prefix,
      name: input.name,
      scopes: arrayLiteral(input.scopes)!,
      projectIds: arrayLiteral(input.project_ids),
      maxRole,
      expiresAt: new Date(input.expires_at).toISOString(),
      wantsAdmin: input.scopes.includes('admin'),
      maxKeys: config.maxApiKeys,
    }),
  );
  return { key: made.key, view: CREATE_KEY.outcome({ guards: row.guards, facts: {}, written: row.key }) };
}

export const API_KEY_LIST_ORDER: ListOrder = { name: 'api_keys:-created_at', key: 'timestamp' };

const targetUser = alias(users, 'target_user');

/** A user's keys, newest first: the caller's own, or (`admin`) those of user `$.userId`, with the caller checked. */
const KEY_LIST = statementFamily(
  'api_keys',
  { admin: FLAG, after: FLAG },
  slots<CallerValues & PageValues & { userId: string }>(),
  (db, shape, $) => {
    // The caller's own keys are those of `userId` = the caller; the admin's view names another user.
    const ofOwner = eq(apiKeys.userId, sql`${$.userId}::uuid`);
    const page = pageWindow(
      db
        .select({ ...keyColumns, sortKey: sortKeyText(apiKeys.createdAt).as('sort_key') })
        .from(apiKeys)
        .where(and(ofOwner, shape.after ? afterCursor('desc', apiKeys.createdAt, apiKeys.id) : undefined))
        .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
        .$dynamic(),
    ).as('page');
    const total = cappedCount(
      db
        .select({ one: sql`1` })
        .from(apiKeys)
        .where(ofOwner)
        .$dynamic(),
    );
    return db
      .select({
        actor: actorColumns,
        targetId: shape.admin ? targetUser.id : sql<string | null>`${users.id}`,
        key: regroup(keyColumns, page),
        sortKey: page.sortKey,
        total,
      })
      .from(users)
      .leftJoin(targetUser, shape.admin ? eq(targetUser.id, sql`${$.userId}::uuid`) : sql`false`)
      .leftJoinLateral(page, shape.admin ? sql`${callerIsAdmin} and ${targetUser.id} is not null` : sql`true`)
      .where(isCaller($));
  },
);

/** GET /auth/api-keys (the caller's), GET /auth/admin/users/{id}/api-keys (an admin's view of `userId`'s). */
export async function listApiKeys(
  db: Database,
  caller: Caller,
  pageRequest: PageRequest,
  userId?: string,
): Promise<Page<ApiKeyView>> {
  const admin = userId !== undefined;
  const rows = await KEY_LIST.on(db, { admin, after: pageRequest.after !== undefined }).execute({
    ...callerValues(caller),
    ...pageValues(pageRequest),
    userId: userId ?? caller.id,
  });
  const actor = authorizeActor(rows[0]?.actor);
  if (admin && !isAdmin(actor)) throw forbidden('role_required', 'this action requires the admin role');
  if (!rows[0]?.targetId) throw notFound('user');
  return toPage(
    rows.filter((row) => row.key !== null),
    pageRequest,
    { count: rows[0].total, item: (row) => row.key!, key: (row) => [row.sortKey!, row.key!.id] },
  );
}

/** An `api_key.revoke` event for each key of `revoked` (a CTE of the keys a statement revoked: `id`, `revokedAt`). */
const revokeEvents = ($: Slots<RequestValues>, revoked: { id: SQLWrapper; revokedAt: SQLWrapper } & SQLWrapper) =>
  auditOf($, 'api_key.revoke', 'api_key', {
    from: revoked,
    entityId: revoked.id,
    projectId: null,
    changes: changesOf([['revoked_at', null, revoked.revokedAt]]),
  });

type RevokeValues = CallerValues & { targetKeyId: string; ownerId: string };

/**
 * A key revoked at once, in one guarded statement over the locked key: a second revocation changes nothing
 * and writes no second event.
 */
const revocation = (db: Database, $: Slots<RevokeValues>, write: GuardedWrite) => {
  const facts = db.$with('facts').as(
    callerFactsQuery(db, $, write, {
      targetId: sql<string | null>`${apiKeys.id}`.as('target_id'),
      oldRevokedAt: sql<Date | null>`${apiKeys.revokedAt}`.as('old_revoked_at'),
    }).leftJoinLateral(lockedRow(apiKeys, namedKey($.targetKeyId, $.ownerId)), sql`true`),
  );
  const revoked = db.$with('revoked').as(
    db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .from(facts)
      .where(and(eq(apiKeys.id, facts.targetId), write.allHold(facts)))
      .returning({ id: apiKeys.id, revokedAt: apiKeys.revokedAt, oldRevokedAt: facts.oldRevokedAt }),
  );
  const newly = db.$with('newly').as(
    db
      .select()
      .from(revoked)
      .where(sql`${revoked.oldRevokedAt} is null`),
  );
  const audit = db.$with('audit', {}).as(revokeEvents($, newly));
  return db
    .with(facts, revoked, newly, audit)
    .select({ guards: write.results(facts), revoked: { id: revoked.id } })
    .from(facts)
    .leftJoin(revoked, sql`true`);
};

const REVOKE_OWN = statement('revoke_own_api_key', slots<RevokeValues>(), (db, $) => revocation(db, $, REVOKE_OWN_KEY));
const REVOKE_ANY = statement('revoke_any_api_key', slots<RevokeValues>(), (db, $) => revocation(db, $, REVOKE_ANY_KEY));

/** DELETE /auth/api-keys/{id} (the caller's own key), DELETE /auth/admin/users/{id}/api-keys/{key_id} (an admin). */
export async function revokeApiKey(db: Database, caller: Caller, keyId: string, userId?: string): Promise<void> {
  const [write, revoking] = userId === undefined ? [REVOKE_OWN_KEY, REVOKE_OWN] : [REVOKE_ANY_KEY, REVOKE_ANY];
  const row = await write.run(
    revoking.on(db).execute({ ...callerValues(caller), targetKeyId: keyId, ownerId: userId ?? caller.id }),
  );
  write.outcome({ guards: row.guards, facts: {}, written: row.revoked });
}

/**
 * Every live key of the users `owners` selects, revoked, with an `api_key.revoke` event each: CTEs for the
 * statement that ends a user's access (logout-all with `include_api_keys`, a deactivation).
 */
export function everyKeyRevoked(db: Database, $: Slots<RequestValues>, owners: SQLWrapper) {
  const revokedKeys = db.$with('revoked_keys').as(
    db
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(sql`${apiKeys.userId} in ${owners}`, isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id, revokedAt: apiKeys.revokedAt }),
  );
  const keysAudit = db.$with('keys_audit', {}).as(revokeEvents($, revokedKeys));
  return { revokedKeys, keysAudit };
}

const REVOKE_EVERY_KEY = statement('revoke_every_api_key', slots<RequestValues & { ownerId: string }>(), (db, $) => {
  const { revokedKeys, keysAudit } = everyKeyRevoked(db, $, sql`(select ${$.ownerId}::uuid)`);
  return db.with(revokedKeys, keysAudit).select({ id: revokedKeys.id }).from(revokedKeys);
});

/** Every live key of `ownerId`, revoked by `actorId` (a deactivation, inside its transaction). */
export async function revokeEveryKey(db: Database, ownerId: string, actorId: string, request: RequestMeta) {
  await REVOKE_EVERY_KEY.on(db).execute({ ...requestValues(request, actorId), ownerId });
}

const presentedKey = alias(apiKeys, 'presented_key');

const CREDENTIAL = statement('credential', slots<CallerValues>(), (db, $) =>
  db
    .select({
      actor: actorColumns,
      email: users.email,
      key: { name: presentedKey.name, projectIds: presentedKey.projectIds, expiresAt: presentedKey.expiresAt },
    })
    .from(users)
    .leftJoin(presentedKey, eq(presentedKey.id, sql`${$.keyId}::uuid`))
    .where(isCaller($)),
);

export interface CredentialView {
  email: string;
  /** What it may do: a key's scopes, or every scope its user may hold for a session. */
  scopes: Scope[];
  key: Pick<ApiKeyRow, 'name' | 'projectIds' | 'expiresAt'> | null;
}

/** GET /auth/credential: the caller as the presented credential has them, checked like every request. */
export async function describeCredential(db: Database, caller: Caller): Promise<CredentialView> {
  const [row] = await CREDENTIAL.on(db).execute(callerValues(caller));
  const actor = authorizeActor(row?.actor);
  const scopes = caller.key?.scopes ?? SCOPES.filter((scope) => scope !== 'admin' || actor.role === 'admin');
  return { email: row!.email, scopes, key: caller.key ? row!.key : null };
}
