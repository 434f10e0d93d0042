import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { KEY_MAX_ROLES, SCOPES, type KeyMaxRole, type Scope } from '../lib/api-keys.ts';
import { users } from './schema.ts';

/*
 * API keys (modules/api-keys, lib/api-keys.ts): a machine's credential, acting for its user within its
 * scopes, projects and role cap. Only the SHA-256 digest of a key is stored; the key is shown once.
 */

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const quotedList = (values: readonly string[]) => sql.raw(values.map((value) => `'${value}'`).join(', '));

export const apiKeys = pgTable(
  'api_keys',
  {
    // Chosen by the API when the key is made: the key carries it.
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    // The key's first characters, to recognise it by in a list (never any of its secret).
    prefix: text('prefix').notNull(),
    scopes: text('scopes').array().$type<Scope[]>().notNull(),
    // The projects it is limited to; null: every project its user is in.
    projectIds: uuid('project_ids').array(),
    maxRole: text('max_role').$type<KeyMaxRole>(),
    createdAt: at('created_at').notNull().defaultNow(),
    expiresAt: at('expires_at').notNull(),
    lastUsedAt: at('last_used_at'),
    lastUsedIp: text('last_used_ip'),
    revokedAt: at('revoked_at'),
  },
  (table) => [
    check('api_keys_scopes', sql`${table.scopes} <@ array[${quotedList(SCOPES)}]::text[]`),
    check('api_keys_max_role', sql`${table.maxRole} in (${quotedList(KEY_MAX_ROLES)})`),
    // A user's keys, newest first (GET /auth/api-keys), and their live ones (the cap, revoking them all).
    index('api_keys_user_idx').on(table.userId, table.createdAt, table.id),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
