import type { RoleName, UserRow } from '../db/schema.ts';
import { forbidden, unauthorized } from './problem.ts';

/** Who is acting: the user behind a verified access token, as the database has them now. */
export type Actor = Pick<UserRow, 'id' | 'role'>;

/**
 * The rules every authenticated request obeys, wherever the caller's row was read (alone, or in the
 * same statement as the route's data): a token whose user no longer exists is invalid (401), and a
 * deactivated user is refused at once (403) rather than when the token expires.
 */
export function authorizeActor<T extends Pick<UserRow, 'isActive'>>(row: T | null | undefined): T {
  if (!row) throw unauthorized('invalid token');
  if (!row.isActive) throw forbidden('this account is inactive');
  return row;
}

export const hasRole = (actor: Pick<UserRow, 'role'>, role: RoleName) => actor.role === role;
export const isAdmin = (actor: Pick<UserRow, 'role'>) => hasRole(actor, 'admin');
