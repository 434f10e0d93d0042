import { and, eq, isNull, ne, sql, type SQLWrapper } from 'drizzle-orm';
import type { Database } from './client.ts';
import { sessions } from './schema.ts';

/**
 * Revokes every live session of `userId` (but `keepSessionId`): the piece every "revoke all" shares
 * (logout-all, password change, admin changes, the CLI's promotion). The caller moves the user's token
 * epoch on beside it, which ends the access tokens. Here, below the modules, so Node tools can use it too.
 * The ids are values or, in a statement declared once, placeholders.
 */
export const revokeEverySession = (db: Database, userId: string | SQLWrapper, keepSessionId?: string | SQLWrapper) =>
  db
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        keepSessionId ? ne(sessions.id, keepSessionId) : undefined,
      ),
    );
