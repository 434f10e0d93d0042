import type { RoleName, UserRow } from '../db/schema.ts';
import type { PresentedKey } from './api-keys.ts';
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
  /** What was presented: a session's access token (the default) or an API key, checked where the caller is read. */
  key?: PresentedKey;
}

/** Which credential acted, as the audit trail records it. */
export type CredentialRef = { kind: 'session' } | { kind: 'api_key'; keyId: string };

/** The request behind a change: its id (X-Request-Id), the client's address and user agent, its credential. */
export interface RequestMeta {
  id: string | null;
  ip: string | null;
  userAgent: string | null;
  credential?: CredentialRef | null;
}

/** Any epoch: the largest int4. API keys, which are not ended by a new epoch, and command-line tools present it. */
export const ANY_EPOCH = 2_147_483_647;

/** A user as command-line tools act for them (seed data, benchmark plans): no token, so any epoch. */
export const trustedCaller = (id: string): Caller => ({
  id,
  tokenEpoch: ANY_EPOCH,
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

/** Whether the caller may use an admin's powers: with a session, or a key that holds the `admin` scope. */
export const adminAllowed = (caller: Caller) => !caller.key || caller.key.scopes.includes('admin');

export const hasRole = (actor: Pick<UserRow, 'role'>, role: RoleName) => actor.role === role;
export const isAdmin = (actor: Pick<UserRow, 'role'>) => hasRole(actor, 'admin');
