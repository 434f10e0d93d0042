import { everyKeyRevoked } from '../api-keys/api-keys.service.ts';
import { and, desc, eq, gt, inArray, isNotNull, isNull, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { auditOf, changesOf, requestValues, type RequestValues } from '../../db/audit.ts';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import type { AppConfig } from '../../config.ts';
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
import { refreshTokens, sessions, users, type SessionRow } from '../../db/schema.ts';
import { FLAG, slots, statement, statementFamily, type Slots } from '../../db/statements.ts';
import { guard, GuardedWrite, lockedRow } from '../../db/guards.ts';
import {
  actorColumns,
  callerAccountFacts,
  callerFactsQuery,
  callerGuards,
  callerValues,
  isCaller,
  OWN_ACCOUNT,
  type CallerValues,
} from '../../db/users.ts';
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
      sessionUserAgent: client.userAgent,
      sessionIp: client.ip,
    },
  };
}
export type SessionStartValues = Awaited<ReturnType<typeof sessionStart>>['values'];

/**
 * The session row and its first refresh token, as CTEs of the statement that logs the user in: for the user
 * `owner` selects (`user_id` and the user's `token_epoch`; no row, no session). Filled in from
 * `sessionStart`'s values.
 */
export function sessionCtes(db: Database, $: Slots<SessionStartValues>, owner: SQLWrapper) {
  const session = db.$with('new_session', { id: sql<string>`id`.as('id') }).as(
    sql`insert into ${sessions} (id, user_id, token_epoch, expires_at, user_agent, ip)
        select ${$.sessionId}::uuid, user_id, token_epoch, ${$.expiresAt}::timestamptz,
               ${$.sessionUserAgent}::text, ${$.sessionIp}::text
        from (${owner}) as owner
        returning id`,
  );
  const token = db.$with('first_token', {}).as(
    sql`insert into ${refreshTokens} (token_hash, session_id, expires_at)
        select ${$.tokenHash}::text, id, ${$.expiresAt}::timestamptz from ${session}`,
  );
  return [session, token] as const;
}

const REFRESH_SESSION = statement(
  'refresh_session',
  slots<{ presentedHash: string; nextHash: string; expiresAt: Date }>(),
  (db, $) => {
    const used = db.$with('used').as(
      db
        .update(refreshTokens)
        .set({ rotatedAt: sql`now()` })
        .where(
          and(
            eq(refreshTokens.tokenHash, $.presentedHash),
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
            tokenHash: sql<string>`${$.nextHash}`.as('token_hash'),
            sessionId: used.sessionId,
            issuedAt: sql<Date>`now()`.as('issued_at'),
            expiresAt: sql<Date>`${$.expiresAt}::timestamptz`.as('expires_at'),
            rotatedAt: sql<Date | null>`null`.as('rotated_at'),
          })
          .from(used),
      ),
    );
    const touched = db.$with('touched').as(
      db
        .update(sessions)
        .set({ lastUsedAt: sql`now()`, expiresAt: sql`${$.expiresAt}::timestamptz` })
        .where(inArray(sessions.id, subquery.select({ id: used.sessionId }).from(used)))
        .returning({ id: sessions.id, userId: sessions.userId }),
    );
    return db
      .with(used, next, touched)
      .select({ sessionId: touched.id, userId: touched.userId, tokenEpoch: users.tokenEpoch })
      .from(touched)
      .innerJoin(users, eq(users.id, touched.userId));
  },
);

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
  const nextToken = newOpaqueToken();
  const [row] = await REFRESH_SESSION.on(db).execute({
    presentedHash: await sha256Hex(presented),
    nextHash: await sha256Hex(nextToken),
    expiresAt: refreshExpiry(config),
  });
  if (row) return issueTokens(config, { id: row.userId, tokenEpoch: row.tokenEpoch }, row.sessionId, nextToken);
  throw await refusedRefreshToken(db, presented, request);
}

const invalidRefreshToken = () => unauthorized('refresh_token_invalid', 'invalid refresh token');

const REFRESH_TOKEN_STANDING = statement('refresh_token_standing', slots<{ presentedHash: string }>(), (db, $) =>
  db
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
    .where(eq(refreshTokens.tokenHash, $.presentedHash)),
);

// Revoked by the system (no actor): whoever presents a copied token may not be its owner.
const REVOKE_REUSED_SESSION = statement(
  'revoke_reused_session',
  slots<RequestValues & { sessionId: string }>(),
  (db, $) => revokeSessions(db, $, and(eq(sessions.id, $.sessionId), isNull(sessions.revokedAt))!, 'system'),
);

/**
 * Why a presented refresh token was refused. A token already rotated was copied: its whole session is
 * revoked now, so whoever holds the newest token of the family is refused too.
 */
async function refusedRefreshToken(db: Database, presented: string, request: RequestMeta) {
  const [found] = await REFRESH_TOKEN_STANDING.on(db).execute({ presentedHash: await sha256Hex(presented) });
  if (!found) return invalidRefreshToken();
  if (found.revokedAt !== null) return unauthorized('session_revoked', 'this session was revoked');
  if (found.rotatedAt !== null) {
    await REVOKE_REUSED_SESSION.on(db).execute({ ...requestValues(request), sessionId: found.sessionId });
    return unauthorized('refresh_token_reused', 'this refresh token was already used; its session is revoked');
  }
  if (found.expired) return unauthorized('refresh_token_expired', 'refresh token expired');
  // The user's sessions were all ended (logout-all, password change) after this one began.
  if (found.staleEpoch) return unauthorized('session_revoked', 'this session was revoked');
  if (!found.isActive) return forbidden('account_inactive', 'this account is inactive');
  return invalidRefreshToken();
}

/**
 * Revokes the sessions `where` finds, each with its `session.revoke` event, in one statement that returns
 * the ids. The event's actor: the caller, each session's own user (a logout), or the system (none).
 */
function revokeSessions(db: Database, $: Slots<RequestValues>, where: SQL, actor: 'caller' | 'owner' | 'system') {
  const { revoked, audit } = revocation(db, $, where, actor);
  return db.with(revoked, audit).select({ id: revoked.id }).from(revoked);
}

/**
 * The sessions `where` finds, revoked, as the CTE `revoked`, and their `session.revoke` events, acted by
 * the caller, the sessions' owner or the system.
 */
function revocation(db: Database, $: Slots<RequestValues>, where: SQL, actor: 'caller' | 'owner' | 'system') {
  const revoked = db.$with('revoked').as(
    db
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(where)
      .returning({ id: sessions.id, userId: sessions.userId, revokedAt: sessions.revokedAt }),
  );
  const audit = db.$with('audit', {}).as(
    auditOf($, 'session.revoke', 'session', {
      from: revoked,
      entityId: revoked.id,
      projectId: null,
      changes: changesOf([['revoked_at', null, revoked.revokedAt]]),
      actor: { caller: undefined, owner: revoked.userId, system: sql`null::uuid` }[actor],
    }),
  );
  return { revoked, audit };
}

const LOG_OUT = statement('log_out', slots<RequestValues & { presentedHash: string }>(), (db, $) => {
  const presentedSession = inArray(
    sessions.id,
    subquery
      .select({ id: refreshTokens.sessionId })
      .from(refreshTokens)
      .where(
        and(
          eq(refreshTokens.tokenHash, $.presentedHash),
          isNull(refreshTokens.rotatedAt),
          gt(refreshTokens.expiresAt, sql`now()`),
        ),
      ),
  );
  return revokeSessions(db, $, and(isNull(sessions.revokedAt), presentedSession)!, 'owner');
});

/** POST /auth/logout: the presented token's session is revoked by its user (a rotated token revokes it as reuse, and is refused). */
export async function logOut(db: Database, presented: string, request: RequestMeta): Promise<void> {
  if (!OPAQUE_TOKEN.test(presented)) throw invalidRefreshToken();
  const [revoked] = await LOG_OUT.on(db).execute({
    ...requestValues(request),
    presentedHash: await sha256Hex(presented),
  });
  if (!revoked) throw await refusedRefreshToken(db, presented, request);
}

const LOG_OUT_EVERYWHERE = statementFamily('logout_all', { keys: FLAG }, slots<CallerValues>(), (db, shape, $) => {
  const facts = callerAccountFacts(db, $, OWN_ACCOUNT, {});
  const bumped = db.$with('bumped').as(
    db
      .update(users)
      .set({ tokenEpoch: sql`${users.tokenEpoch} + 1` })
      .from(facts)
      .where(and(eq(users.id, facts.callerId), OWN_ACCOUNT.allHold(facts)))
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
  const audit = db.$with('audit', {}).as(
    auditOf($, 'session.revoke_all', 'user', {
      from: bumped,
      entityId: bumped.id,
      projectId: null,
      changes: sql`'{}'::jsonb`,
    }),
  );
  const keys = shape.keys ? everyKeyRevoked(db, $, sql`(select ${bumped.id} from ${bumped})`) : undefined;
  return db
    .with(facts, bumped, revoked, audit, ...(keys ? [keys.revokedKeys, keys.keysAudit] : []))
    .select({ guards: OWN_ACCOUNT.results(facts), bumped: { id: bumped.id } })
    .from(facts)
    .leftJoin(bumped, sql`true`);
});

/**
 * POST /auth/logout-all: one guarded statement moves the caller's epoch on (every access token ends) and
 * revokes every session, and with `includeApiKeys` every API key.
 */
export async function logOutEverywhere(db: Database, caller: Caller, includeApiKeys = false): Promise<void> {
  const row = await OWN_ACCOUNT.run(LOG_OUT_EVERYWHERE.on(db, { keys: includeApiKeys }).execute(callerValues(caller)));
  OWN_ACCOUNT.outcome({ guards: row.guards, facts: {}, written: row.bumped });
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

const CALLER_SESSIONS = statementFamily(
  'sessions',
  { after: FLAG },
  slots<CallerValues & PageValues>(),
  (db, shape, $) => {
    const live = (owner: SQLWrapper) =>
      and(eq(sessions.userId, owner), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`));
    const page = pageWindow(
      db
        .select({ ...sessionColumns, sortKey: sortKeyText(sessions.createdAt).as('sort_key') })
        .from(sessions)
        .where(and(live(users.id), shape.after ? afterCursor('desc', sessions.createdAt, sessions.id) : undefined))
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
            .where(live($.callerId))
            .$dynamic(),
        ),
      })
      .from(users)
      .leftJoinLateral(page, sql`true`)
      .where(isCaller($));
  },
);

/** GET /auth/sessions: the caller's live sessions (not revoked, not expired), newest first, in one statement. */
export async function listSessions(db: Database, caller: Caller, pageRequest: PageRequest): Promise<Page<SessionView>> {
  const rows = await CALLER_SESSIONS.on(db, { after: pageRequest.after !== undefined }).execute({
    ...callerValues(caller),
    ...pageValues(pageRequest),
  });
  authorizeActor(rows[0]?.actor);
  return toPage(
    rows.filter((row) => row.session !== null),
    pageRequest,
    { count: rows[0]!.total, item: (row) => row.session!, key: (row) => [row.sortKey!, row.session!.id] },
  );
}

/** Revoking one of the caller's own sessions: the caller's rules, then the session (live and theirs, else 404). */
export const REVOKE_OWN_SESSION = new GuardedWrite(
  ...callerGuards(),
  guard('session_known', isNotNull(sessions.id), () => notFound('session')),
);

const REVOKE_SESSION = statement('revoke_session', slots<CallerValues & { sessionId: string }>(), (db, $) => {
  const ownSession = and(eq(sessions.id, $.sessionId), eq(sessions.userId, $.callerId), isNull(sessions.revokedAt))!;
  const facts = db.$with('facts').as(
    callerFactsQuery(db, $, REVOKE_OWN_SESSION, {
      sessionId: sql<string | null>`${sessions.id}`.as('session_id'),
    }).leftJoinLateral(lockedRow(sessions, ownSession), sql`true`),
  );
  // The shared revocation updates by a WHERE alone, so it reads the guards' verdict as a scalar.
  const allHold = sql`(select ${REVOKE_OWN_SESSION.allHold(facts)} from ${facts})`;
  const { revoked, audit } = revocation(db, $, and(eq(sessions.id, $.sessionId), allHold)!, 'caller');
  return db
    .with(facts, revoked, audit)
    .select({ guards: REVOKE_OWN_SESSION.results(facts), revoked: { id: revoked.id } })
    .from(facts)
    .leftJoin(revoked, sql`true`);
});

/** DELETE /auth/sessions/{id}: one of the caller's own sessions, revoked, in one guarded statement. */
export async function revokeSession(db: Database, caller: Caller, sessionId: string): Promise<void> {
  const row = await REVOKE_OWN_SESSION.run(REVOKE_SESSION.on(db).execute({ ...callerValues(caller), sessionId }));
  REVOKE_OWN_SESSION.outcome({ guards: row.guards, facts: {}, written: row.revoked });
}
