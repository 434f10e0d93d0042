import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { apiKeys } from './api-key-schema.ts';
import { afterResponse } from './own-database.ts';
import { slots, statement } from './statements.ts';

/*
 * An API key's `last_used_at` and `last_used_ip`, at most a minute stale without a write on every request:
 * after the response (so the request stays one statement), on a connection of its own, and only when this
 * isolate has not written the key's use within the minute; the UPDATE itself skips a row written within the
 * minute by another isolate. Entries older than the minute are dropped as the map is swept.
 */

const FRESH_MS = 60_000;
const MAX_REMEMBERED = 10_000;
const written = new Map<string, number>();
let sweptAt = 0;

const RECORD_USE = statement(
  'record_key_use',
  slots<{ keyId: string; keyHash: string; ip: string | null }>(),
  (db, $) =>
    db
      .update(apiKeys)
      .set({ lastUsedAt: sql`now()`, lastUsedIp: sql`${$.ip}::text` })
      .where(
        and(
          // Only the key itself, live: a key that merely passes the checksum changes nothing.
          eq(apiKeys.id, sql`${$.keyId}::uuid`),
          eq(apiKeys.keyHash, sql`${$.keyHash}::text`),
          isNull(apiKeys.revokedAt),
          or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`)),
        ),
      ),
);

/** Notes that `key` was presented by this request (see above); remembered by digest, so a forged key cannot delay the real one's record. */
export function recordKeyUse(c: AppContext, key: { keyId: string; keyHash: string }, now = Date.now()): void {
  if (now - (written.get(key.keyHash) ?? 0) < FRESH_MS) return;
  if (now - sweptAt > FRESH_MS || written.size >= MAX_REMEMBERED) {
    for (const [hash, at] of written) if (now - at >= FRESH_MS) written.delete(hash);
    if (written.size >= MAX_REMEMBERED) written.clear();
    sweptAt = now;
  }
  const values = { keyId: key.keyId, keyHash: key.keyHash, ip: c.get('caller').request.ip };
  if (afterResponse(c, 'recording an API key use', (db) => RECORD_USE.on(db).execute(values))) {
    written.set(key.keyHash, now);
  }
}
