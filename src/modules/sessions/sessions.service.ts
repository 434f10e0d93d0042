import { and, desc, eq, gt, inArray, isNull, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { auditOf, changesOf, requestValues } from '../../db/audit.ts';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import type { AppConfig } from '../../config.ts';
import { prepared, type Database } from '../../db/client.ts';
import { afterCursor, cappedCount, pageValues, pageWindow, regroup, sortKeyText } from '../../db/pagination.ts';
import { refreshTokens, sessions, users, type SessionRow } from '../../db/schema.ts';
import { actorColumns, callerValues, findCaller, isCaller } from '../../db/users.ts';
import { authorizeActor, type Caller, type RequestMeta } from '../../lib/actor.ts';
import { issueAccessToken } from '../../lib/jwt.ts';
import { toPage, type ListOrder, type Page, type PageRequest } from '../../lib/pagination.ts';
import { forbidden, notFound, unauthorized } from '../../lib/problem.ts';
import { newOpaqueToken, OPAQUE_TOKEN, sha256Hex } from '../../lib/secrets.ts';

/*
 * Sessions: each login starts a family of refresh tokens. A refresh exchanges the current token for the
 * next (rotation) in one statement; a rotated token presented again means it was copied, so the whole
 * family is revoked (RFC 9700, section 4.14.2), the newest token included. Only digests are stored.
 *
 * Revocation and access tokens: logout-all, a password change, a deactivation or a role change move the
 * user's token epoch on, so every access token issued before stops working at once (lib/actor.ts).
 * Revoking one session (logout, DELETE /auth/sessions/{id}) ends its refresh token at once; an access token
 * it already issued lives until it expires (JWT_EXPIRY_MINUTES, 15 by default) rather than every request
 * paying a session lookup.
 */

export interface IssuedTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
  sessionId: string;
}

const subquery = new QueryBuilder();
const refreshExpiry = (config: AppConfig) => new Date(Date.now() + config.sessions.refreshTokenSeconds * 1000);

export async function issueTokens(
  config: AppConfig,
  user: { id: string; tokenEpoch: number },
  sessionId: string,
  refreshToken: string,
): Promise<IssuedTokens> {
  const access = await issueAccessToken({ userId: user.id, sessionId, tokenEpoch: user.tokenEpoch }, config.jwt);
  return { ...access, refreshToken, refreshExpiresIn: config.sessions.refreshTokenSeconds, sessionId };
}

/** A new session's id, first refresh token and what its rows record, for `sessionCtes`. */
export async function sessionStart(config: AppConfig, client: RequestMeta) {
  const refreshToken = newOpaqueToken();
  return {
    refreshToken,
    values: {
      sessionId: crypto.randomUUID(),
      tokenHash: await sha256Hex(refreshToken),
      expiresAt: refreshExpiry(config),
      userAgent: client.userAgent,
      ip: client.ip,
    },
  };
}

/**
 * The session row and its first refresh token, as CTEs of the statement that logs the user in: for the user
 * `owner` selects (`user_id` and the user's `token_epoch`; no row, no session). Filled in from
 * `sessionStart`'s values.
 */
export function sessionCtes(db: Database, owner: SQLWrapper) {
  const placeholder = (name: string, type: string) => sql`${sql.placeholder(name)}::${sql.raw(type)}`;
  const session = db.$with('new_session', { id: sql<string>`id`.as('id') }).as(
    sql`insert into ${sessions} (id, user_id, token_epoch, expires_at, user_agent, ip)
        select ${placeholder('sessionId', 'uuid')}, user_id, token_epoch, ${placeholder('expiresAt', 'timestamptz')}, ${placeholder('userAgent', 'text')}, ${placeholder('ip', 'text')}
        from (${owner}) as owner
        returning id`,
  );
  const token = db.$with('first_token', {}).as(
    sql`insert into ${refreshTokens} (token_hash, session_id, expires_at)
        select ${placeholder('tokenHash', 'text')}, id, ${placeholder('expiresAt', 'timestamptz')} from ${session}`,
  );
  return [session, token] as const;
}

/**
 * POST /auth/refresh, in one statement: the presented token is marked rotated only while it is current,
 * unexpired, and its session and user are live; the next token is inserted and the session touched beside
 * it. Concurrent refreshes with one token queue on its row: the first wins, the rest find it rotated.
 */
export async function refreshSession(
  db: Database,
  presented: string,
  config: AppConfig,
  request: RequestMeta,
): Promise<IssuedTokens> {
  if (!OPAQUE_TOKEN.test(presented)) throw invalidRefreshToken();
  const statement = prepared(db, 'refresh_session', () => {
    const used = db.$with('used').as(
      db
        .update(refreshTokens)
        .set({ rotatedAt: sql`now()` })
        .where(
          and(
            eq(refreshTokens.tokenHash, sql.placeholder('presentedHash')),
            isNull(refreshTokens.rotatedAt),
            gt(refreshTokens.expiresAt, sql`now()`),
            inArray(
              refreshTokens.sessionId,
              subquery
                .select({ id: sessions.id })
                .from(sessions)
                .innerJoin(users, eq(users.id, sessions.userId))
                .where(
                  and(isNull(sessions.revokedAt), eq(users.isActive, true), eq(sessions.tokenEpoch, users.tokenEpoch)),
                ),
            ),
          ),
        )
        .returning({ sessionId: refreshTokens.sessionId }),
    );
    const next = db.$with('next_token').as(
      db.insert(refreshTokens).select(
        subquery
          .select({
            tokenHash: sql<string>`${sql.placeholder('nextHash')}`.as('token_hash'),
            sessionId: used.sessionId,
            issuedAt: sql<Date>`now()`.as('issued_at'),
            expiresAt: sql<Date>`${sql.placeholder('expiresAt')}::timestamptz`.as('expires_at'),
            rotatedAt: sql<Date | null>`null`.as('rotated_at'),
          })
          .from(used),
      ),
    );
    const touched = db.$with('touched').as(
      db
        .update(sessions)
        .set({ lastUsedAt: sql`now()`, expiresAt: sql`${sql.placeholder('expiresAt')}::timestamptz` })
        .where(inArray(sessions.id, subquery.select({ id: used.sessionId }).from(used)))
        .returning({ id: sessions.id, userId: sessions.userId }),
    );
    return db
      .with(used, next, touched)
      .select({ sessionId: touched.id, userId: touched.userId, tokenEpoch: users.tokenEpoch })
      .from(touched)
      .innerJoin(users, eq(users.id, touched.userId));
  });
  const nextToken = newOpaqueToken();
  const [row] = await statement.execute({
    presentedHash: await sha256Hex(presented),
    nextHash: await sha256Hex(nextToken),
    expiresAt: refreshExpiry(config),
  });
  if (row) return issueTokens(config, { id: row.userId, tokenEpoch: row.tokenEpoch }, row.sessionId, nextToken);
  throw await refusedRefreshToken(db, presented, request);
}

const invalidRefreshToken = () => unauthorized('refresh_token_invalid', 'invalid refresh token');

/**
 * Why a presented refresh token was refused. A token already rotated was copied: its whole session is
 * revoked now, so whoever holds the newest token of the family is refused too.
 */
async function refusedRefreshToken(db: Database, presented: string, request: RequestMeta) {
  const [found] = await db
    .select({
      rotatedAt: refreshTokens.rotatedAt,
      expired: sql<boolean>`${refreshTokens.expiresAt} <= now()`,
      sessionId: sessions.id,
      revokedAt: sessions.revokedAt,
      isActive: users.isActive,
      staleEpoch: sql<boolean>`${sessions.tokenEpoch} <> ${users.tokenEpoch}`,
    })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.tokenHash, await sha256Hex(presented)));
  if (!found) return invalidRefreshToken();
  if (found.revokedAt !== null) return unauthorized('session_revoked', 'this session was revoked');
  if (found.rotatedAt !== null) {
    // Revoked by the system (no actor): whoever presents the token may not be its owner.
    await revokeSessions(
      db,
      and(eq(sessions.id, found.sessionId), isNull(sessions.revokedAt))!,
      sql`null::uuid`,
    ).execute(requestValues(request));
    return unauthorized('refresh_token_reused', 'this refresh token was already used; its session is revoked');
  }
  if (found.expired) return unauthorized('refresh_token_expired', 'refresh token expired');
  // The user's sessions were all ended (logout-all, password change) after this one began.
  if (found.staleEpoch) return unauthorized('session_revoked', 'this session was revoked');
  if (!found.isActive) return forbidden('account_inactive', 'this account is inactive');
  return invalidRefreshToken();
}

/**
 * Revokes the sessions `where` finds, each with its `session.revoke` event (`actor`: an expression over the
 * revoked row's columns, or a placeholder), in one statement that returns the ids.
 */
function revokeSessions(db: Database, where: SQL, actor: SQL) {
  const revoked = db.$with('revoked').as(
    db
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(where)
      .returning({ id: sessions.id, userId: sessions.userId, revokedAt: sessions.revokedAt }),
  );
  const audit = db
    .$with('audit', {})
    .as(
      auditOf(
        'session.revoke',
        'session',
        sql`select id as entity_id, null::uuid as project_id, user_id, ${changesOf([['revoked_at', null, sql.identifier('revoked_at')]])} as changes from ${revoked}`,
        actor,
      ),
    );
  return db.with(revoked, audit).select({ id: revoked.id }).from(revoked);
}

/** POST /auth/logout: the presented token's session is revoked by its user (a rotated token revokes it as reuse, and is refused). */
export async function logOut(db: Database, presented: string, request: RequestMeta): Promise<void> {
  if (!OPAQUE_TOKEN.test(presented)) throw invalidRefreshToken();
  const presentedSession = inArray(
    sessions.id,
    subquery
      .select({ id: refreshTokens.sessionId })
      .from(refreshTokens)
      .where(
        and(
          eq(refreshTokens.tokenHash, sql.placeholder('presentedHash')),
          isNull(refreshTokens.rotatedAt),
          gt(refreshTokens.expiresAt, sql`now()`),
        ),
      ),
  );
  const statement = prepared(db, 'log_out', () =>
    revokeSessions(db, and(isNull(sessions.revokedAt), presentedSession)!, sql`user_id`),
  );
  const [revoked] = await statement.execute({ ...requestValues(request), presentedHash: await sha256Hex(presented) });
  if (!revoked) throw await refusedRefreshToken(db, presented, request);
}

/** POST /auth/logout-all: one statement moves the caller's epoch on (every access token ends) and revokes every session. */
export async function logOutEverywhere(db: Database, caller: Caller): Promise<void> {
  const statement = prepared(db, 'logout_all', () => {
    const bumped = db.$with('bumped').as(
      db
        .update(users)
        .set({ tokenEpoch: sql`${users.tokenEpoch} + 1` })
        .where(and(isCaller, eq(users.isActive, true)))
        .returning({ id: users.id }),
    );
    const revoked = db.$with('revoked').as(
      db
        .update(sessions)
        .set({ revokedAt: sql`now()` })
        .where(
          and(isNull(sessions.revokedAt), inArray(sessions.userId, subquery.select({ id: bumped.id }).from(bumped))),
        ),
    );
    const audit = db
      .$with('audit', {})
      .as(
        auditOf(
          'session.revoke_all',
          'user',
          sql`select id as entity_id, null::uuid as project_id, '{}'::jsonb as changes from ${bumped}`,
        ),
      );
    return db.with(bumped, revoked, audit).select({ id: bumped.id }).from(bumped);
  });
  const [done] = await statement.execute(callerValues(caller));
  if (!done) authorizeActor(await findCaller(db, caller));
}

export const SESSION_LIST_ORDER: ListOrder = { name: 'sessions:-created_at', key: 'timestamp' };
const sessionColumns = {
  id: sessions.id,
  createdAt: sessions.createdAt,
  lastUsedAt: sessions.lastUsedAt,
  userAgent: sessions.userAgent,
  ip: sessions.ip,
};
export type SessionView = Pick<SessionRow, keyof typeof sessionColumns>;

/** GET /auth/sessions: the caller's live sessions (not revoked, not expired), newest first, in one statement. */
export async function listSessions(db: Database, caller: Caller, pageRequest: PageRequest): Promise<Page<SessionView>> {
  const shape = `sessions:${pageRequest.after ? 'after' : 'start'}`;
  const statement = prepared(db, shape, () => {
    const live = (owner: SQLWrapper) =>
      and(eq(sessions.userId, owner), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`));
    const page = pageWindow(
      db
        .select({ ...sessionColumns, sortKey: sortKeyText(sessions.createdAt).as('sort_key') })
        .from(sessions)
        .where(and(live(users.id), pageRequest.after && afterCursor('desc', sessions.createdAt, sessions.id)))
        .orderBy(desc(sessions.createdAt), desc(sessions.id))
        .$dynamic(),
    ).as('page');
    return db
      .select({
        actor: actorColumns,
        session: regroup(sessionColumns, page),
        sortKey: page.sortKey,
        total: cappedCount(
          db
            .select({ one: sql`1` })
            .from(sessions)
            .where(live(sql.placeholder('callerId')))
            .$dynamic(),
        ),
      })
      .from(users)
      .leftJoinLateral(page, sql`true`)
      .where(isCaller);
  });
  const rows = await statement.execute({ ...callerValues(caller), ...pageValues(pageRequest) });
  authorizeActor(rows[0]?.actor);
  return toPage(
    rows.filter((row) => row.session !== null),
    pageRequest,
    { count: rows[0]!.total, item: (row) => row.session!, key: (row) => [row.sortKey!, row.session!.id] },
  );
}

/** DELETE /auth/sessions/{id}: one of the caller's own sessions, revoked. */
export async function revokeSession(db: Database, caller: Caller, sessionId: string): Promise<void> {
  const statement = prepared(db, 'revoke_session', () =>
    revokeSessions(
      db,
      and(
        eq(sessions.id, sql.placeholder('sessionId')),
        isNull(sessions.revokedAt),
        inArray(
          sessions.userId,
          subquery
            .select({ id: users.id })
            .from(users)
            .where(and(isCaller, eq(users.isActive, true))),
        ),
      )!,
      sql`${sql.placeholder('callerId')}::uuid`,
    ),
  );
  const [revoked] = await statement.execute({ ...callerValues(caller), sessionId });
  if (revoked) return;
  authorizeActor(await findCaller(db, caller));
  throw notFound('session');
}
