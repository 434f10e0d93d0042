import { and, eq, inArray, isNull, sql, type SQLWrapper } from 'drizzle-orm';
import { accountTokens, type AccountTokenKind } from '../../db/account-schema.ts';
import type { Slots } from '../../db/statements.ts';
import { newOpaqueToken, sha256Hex } from '../../lib/secrets.ts';

/*
 * The tokens the account flows mail (db/account-schema.ts `account_tokens`): 256 random bits, of which the
 * database keeps only the SHA-256 digest, found by it when presented.
 */

/** A token to mail, and the digest that is all the database keeps of it. */
export async function newAccountToken(): Promise<{ token: string; tokenHash: string }> {
  const token = newOpaqueToken();
  return { token, tokenHash: await sha256Hex(token) };
}

/** The digest a presented token is looked up by; any string, so a malformed token simply finds nothing. */
export const presentedTokenHash = (token: string) => sha256Hex(token);

/**
 * A new token's row, every column in the table's order (as drizzle's insert-select wants): its kind, digest,
 * address and lifetime, for the user of `from` in their current epoch.
 */
export const issuedToken = (
  $: Slots<{ tokenHash: string; seconds: number }>,
  kind: AccountTokenKind,
  from: { userId: unknown; email: unknown; tokenEpoch: unknown },
) => ({
  id: sql<string>`gen_random_uuid()`.as('id'),
  userId: sql<string>`${from.userId}`.as('user_id'),
  kind: sql<AccountTokenKind>`${sql.raw(`'${kind}'`)}`.as('kind'),
  tokenHash: sql<string>`${$.tokenHash}::text`.as('token_hash'),
  email: sql<string>`${from.email}`.as('email'),
  tokenEpoch: sql<number>`${from.tokenEpoch}`.as('token_epoch'),
  createdAt: sql<Date>`now()`.as('created_at'),
  expiresAt: sql<Date>`now() + make_interval(secs => ${$.seconds}::int)`.as('expires_at'),
  usedAt: sql<Date | null>`null::timestamptz`.as('used_at'),
});

/** The user's live tokens of `kinds`, which a use of one ends (one address confirmed, one password chosen). */
export const liveTokensOf = (userId: SQLWrapper, kinds: AccountTokenKind[]) =>
  and(eq(accountTokens.userId, userId), isNull(accountTokens.usedAt), inArray(accountTokens.kind, kinds));
