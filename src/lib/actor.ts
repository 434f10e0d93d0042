import type { RoleName, UserRow } from '../db/schema.ts';
import { forbidden, unauthorized } from './problem.ts';

/**
 * Who a verified access token says is calling: the user, and the token epoch it was issued in. A user's
 * epoch moves on at logout-all, a password change, a deactivation or a role change, and every statement
 * that reads the caller reads them only while the token's epoch is still theirs, so older tokens stop
 * working at once (db/users.ts `isCaller`).
 */
export interface Caller {
  id: string;
  tokenEpoch: number;
  /** The request acting, as the audit trail records it. */
  request: RequestMeta;
}

/** The request behind a change: its id (X-Request-Id), the client's address and user agent. */
export interface RequestMeta {
  id: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** A user as command-line tools act for them (seed data, benchmark plans): no token, so any epoch (the largest int4). */
export const trustedCaller = (id: string): Caller => ({
  id,
  tokenEpoch: 2_147_483_647,
  request: { id: null, ip: null, userAgent: 'aegisflow-cli' },
});

/** Who is acting: the user behind a verified access token, as the database has them now. */
export type Actor = Pick<UserRow, 'id' | 'role'>;

/**
 * The rules every authenticated request obeys, wherever the caller's row was read (alone, or in the
 * same statement as the route's data): a token whose user no longer exists, or that was revoked (an older
 * epoch), is invalid (401), and a deactivated user is refused at once (403) rather than when the token
 * expires.
 */
export function authorizeActor<T extends Pick<UserRow, 'isActive'>>(row: T | null | undefined): T {
  if (!row) throw tokenRevoked();
  if (!row.isActive) throw accountInactive();
  return row;
}

export const tokenRevoked = () => unauthorized('token_invalid', 'invalid token');
export const accountInactive = () => forbidden('account_inactive', 'this account is inactive');

export const hasRole = (actor: Pick<UserRow, 'role'>, role: RoleName) => actor.role === role;
export const isAdmin = (actor: Pick<UserRow, 'role'>) => hasRole(actor, 'admin');
