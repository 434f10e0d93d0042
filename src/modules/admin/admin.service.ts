import { revokeEveryKey } from '../api-keys/api-keys.service.ts';
import { and, count, desc, eq, getTableColumns, ilike, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
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
import { FLAG, slots, statementFamily } from '../../db/statements.ts';
import { roles, users, type RoleName, type UserRow } from '../../db/schema.ts';
import { toPage, type ListOrder, type Page, type PageRequest } from '../../lib/pagination.ts';
import { conflict, forbidden, notFound } from '../../lib/problem.ts';
import { containsPattern } from '../../lib/sql.ts';
import { callerValues, findCaller, findUserById, type CallerValues } from '../../db/users.ts';
import { authorizeActor, isAdmin, type Caller } from '../../lib/actor.ts';
import { changedValues, auditInsertPerCall } from '../../db/audit.ts';
import { revokeEverySession } from '../../db/sessions.ts';

export interface UserFilters {
  q?: string;
  role?: RoleName;
  isActive?: boolean;
  page: PageRequest;
}

/** The admin list's one order, newest first. */
export const USER_LIST_ORDER: ListOrder = { name: 'users:-created_at', key: 'timestamp' };
const anchor = alias(users, 'anchor');
const userColumns = getTableColumns(users);

/**
 * One statement: the page (keyset on created_at, id through users_created_at_idx) and a count capped at
 * COUNT_CAP, LATERAL-joined to a one-row anchor so an empty page still brings the count.
 */
const ADMIN_USERS = statementFamily(
  'admin_users',
  { q: FLAG, role: FLAG, active: FLAG, after: FLAG },
  slots<
    CallerValues &
      PageValues & { pattern: string | undefined; role: RoleName | undefined; isActive: boolean | undefined }
  >(),
  (db, shape, $) => {
    const conditions: (SQL | undefined)[] = [
      shape.q ? or(ilike(users.email, $.pattern), ilike(users.fullName, $.pattern)) : undefined,
      shape.role ? eq(users.role, $.role) : undefined,
      shape.active ? eq(users.isActive, $.isActive) : undefined,
    ];
    const keyset = shape.after ? afterCursor('desc', users.createdAt, users.id) : undefined;
    const page = pageWindow(
      db
        .select({ ...userColumns, sortKey: sortKeyText(users.createdAt).as('sort_key') })
        .from(users)
        .where(and(...conditions, keyset))
        .orderBy(desc(users.createdAt), desc(users.id))
        .$dynamic(),
    ).as('page');
    const count = cappedCount(
      db
        .select({ one: sql`1` })
        .from(users)
        .where(and(...conditions))
        .$dynamic(),
    );
    return db
      .select({ user: regroup(userColumns, page), sortKey: page.sortKey, total: count })
      .from(anchor)
      .leftJoinLateral(page, sql`true`)
      .where(eq(anchor.id, $.callerId));
  },
);

export async function listUsers(db: Database, caller: Caller, filters: UserFilters): Promise<Page<UserRow>> {
  const shape = {
    q: filters.q !== undefined,
    role: filters.role !== undefined,
    active: filters.isActive !== undefined,
    after: filters.page.after !== undefined,
  };
  const rows = await ADMIN_USERS.on(db, shape).execute({
    ...callerValues(caller),
    pattern: filters.q === undefined ? undefined : containsPattern(filters.q),
    role: filters.role,
    isActive: filters.isActive,
    ...pageValues(filters.page),
  });
  const listed = rows.filter((row) => row.user !== null);
  return toPage(listed, filters.page, {
    count: rows[0]?.total ?? 0,
    item: (row) => row.user!,
    key: (row) => [row.sortKey!, row.user!.id],
  });
}

export async function getUser(db: Database, id: string): Promise<UserRow> {
  const user = await findUserById(db, id);
  if (!user) throw notFound('user');
  return user;
}

type Change = { role: RoleName } | { isActive: boolean };

/**
 * Role and status changes that could remove an admin run serialised: each locks the `admin` role row
 * first, so two admins demoting each other at the same moment cannot both succeed and leave none. After
 * that lock the acting admin is read again: an admin demoted, deactivated or signed out everywhere while
 * this request was on its way (the change that did it held the same lock) acts no more.
 */
async function changeUserPerCall(db: Database, caller: Caller, targetId: string, change: Change): Promise<UserRow> {
  if ('isActive' in change && !change.isActive && caller.id === targetId) {
    throw conflict('self_deactivation', 'an admin cannot deactivate their own account');
  }
  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    await tx.select({ name: roles.name }).from(roles).where(eq(roles.name, 'admin')).for('update');
    const actor = authorizeActor(await findCaller(tx, caller));
    if (!isAdmin(actor)) throw forbidden('role_required', 'this action requires the admin role');
    const [target] = await tx.select().from(users).where(eq(users.id, targetId)).limit(1);
    if (!target) throw notFound('user');

    const next = { role: target.role, isActive: target.isActive, ...change };
    if (next.role === target.role && next.isActive === target.isActive) return target;

    const removesActiveAdmin = isAdmin(target) && target.isActive && (!isAdmin(next) || !next.isActive);
    if (removesActiveAdmin) {
      const [{ admins }] = (await tx
        .select({ admins: count() })
        .from(users)
        .where(and(eq(users.role, 'admin'), eq(users.isActive, true)))) as [{ admins: number }];
      if (admins <= 1) {
        throw conflict(
          'last_admin',
          'role' in change ? 'the last active admin cannot be demoted' : 'the last active admin cannot be deactivated',
        );
      }
    }
    // A role or status change ends every session of the user and every access token issued so far.
    const [updated] = await tx
      .update(users)
      .set({
        role: next.role,
        isActive: next.isActive,
        tokenEpoch: sql`${users.tokenEpoch} + 1`,
        updatedAt: sql`now()`,
      })
      .where(eq(users.id, targetId))
      .returning();
    await revokeEverySession(tx, targetId);
    // A deactivation ends the user's API keys too: reactivated, the account starts without them.
    if (!next.isActive && target.isActive) await revokeEveryKey(tx, targetId, actor.id, caller.request);
    await auditInsertPerCall(
      tx,
      { id: actor.id, request: caller.request },
      {
        action: 'role' in change ? 'user.role_change' : 'user.status_change',
        entityType: 'user',
        entityId: targetId,
        changes:
          'role' in change
            ? changedValues({ role: target.role }, { role: next.role })
            : changedValues({ is_active: target.isActive }, { is_active: next.isActive }),
      },
    );
    return updated!;
  });
}

export const changeUserRole = (db: Database, caller: Caller, targetId: string, role: RoleName) =>
  changeUserPerCall(db, caller, targetId, { role });

export const changeUserStatus = (db: Database, caller: Caller, targetId: string, isActive: boolean) =>
  changeUserPerCall(db, caller, targetId, { isActive });
