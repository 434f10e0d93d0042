import { expect } from 'vitest';
import { newApiKey, type KeyMaxRole, type Scope } from '../../src/lib/api-keys.ts';
import { call } from '../support/http.ts';
import { sql } from '../support/db.ts';
import type { TestUser } from '../support/users.ts';

/** Days from now, as an RFC 3339 timestamp. */
export const daysAhead = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

export interface KeyOptions {
  scopes: Scope[];
  project_ids?: string[];
  max_role?: KeyMaxRole;
  expires_at?: string;
  name?: string;
}

/** A key made through the API with `user`'s session: the key, and its id. */
export async function makeKey(user: TestUser, options: KeyOptions): Promise<{ key: string; id: string }> {
  const made = await call('POST', '/auth/api-keys', {
    token: user.token,
    json: { name: options.name ?? 'test key', expires_at: options.expires_at ?? daysAhead(30), ...options },
  });
  expect(made.status, made.text).toBe(201);
  return { key: made.body.key, id: made.body.id };
}

/** A key written straight into the database (for a user who can no longer make one through the API). */
export async function insertKey(userId: string, scopes: Scope[]): Promise<string> {
  const made = await newApiKey(userId, { scopes, maxRole: null });
  await sql()`insert into api_keys (id, user_id, name, key_hash, prefix, scopes, expires_at)
              values (${made.keyId}, ${userId}, 'inserted', ${made.keyHash}, ${made.prefix}, ${`{${scopes.join(',')}}`}::text[],
                      now() + interval '30 days')`;
  return made.key;
}

/** A key with one character changed, so its checksum no longer holds. */
export const mistyped = (key: string) => {
  const at = 20;
  return key.slice(0, at) + (key[at] === 'a' ? 'b' : 'a') + key.slice(at + 1);
};
