import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

/** Seeded by migration with `user` and `admin`; users reference a role by name (many-to-one). */
export const roles = pgTable('roles', {
  name: text('name').primaryKey(),
  description: text('description').notNull(),
});

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    fullName: text('full_name'),
    isActive: boolean('is_active').notNull().default(true),
    role: text('role')
      .notNull()
      .default('user')
      .references(() => roles.name, { onUpdate: 'cascade', onDelete: 'restrict' }),
    ...timestamps,
  },
  (table) => [
    // Emails are stored normalised, and the index on lower() keeps them unique case-insensitively
    // even for rows written by something other than the API.
    uniqueIndex('users_email_lower_key').on(sql`lower(${table.email})`),
    index('users_created_at_idx').on(table.createdAt.desc(), table.id.desc()),
    index('users_role_active_idx').on(table.role, table.isActive),
  ],
);

export const projects = pgTable(
  'projects',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    name: text('name').notNull(),
    description: text('description'),
    isActive: boolean('is_active').notNull().default(true),
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
    version: integer('version').notNull().default(1),
    ...timestamps,
  },
  (table) => [
    check('projects_name_length', sql`char_length(${table.name}) between 1 and 200`),
    check('projects_description_length', sql`char_length(${table.description}) <= 5000`),
    check('projects_deleted_consistent', sql`(${table.isActive}) = (${table.deletedAt} is null)`),
    // An owner's listing reads all of the owner's rows anyway (its page carries the total), so one
    // owner index, in the default order, serves every sort. Indexing name or updated_at as well would
    // make every insert maintain them and every edit a non-HOT update (drizzle/0003_write_lean_indexes.sql).
    index('projects_owner_active_created_idx').on(table.ownerId, table.isActive, table.createdAt.desc(), table.id.desc()),
    // Admins' listing across all owners, newest first.
    index('projects_active_created_idx').on(table.isActive, table.createdAt.desc(), table.id.desc()),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type RoleName = 'user' | 'admin';
