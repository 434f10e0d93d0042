import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

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
    // Ascending, so a backward scan serves `created_at desc, id desc` (PostgreSQL's default DESC is NULLS
    // FIRST, which an index declared DESC NULLS LAST cannot give) and keyset pages in both directions.
    index('users_created_at_idx').on(table.createdAt, table.id),
    index('users_role_active_idx').on(table.role, table.isActive),
  ],
);

/** A project's roles, least to most: each may do everything the ones before it may (modules/projects/access.ts). */
export const PROJECT_ROLES = ['viewer', 'editor', 'manager', 'owner'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

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
    // Admins' listings of one owner's projects and of everyone's, in created_at order either way (see
    // users_created_at_idx). A user's own list pages through project_members instead. No name or
    // updated_at index: every insert would maintain it and every edit become a non-HOT update
    // (drizzle/0003_write_lean_indexes.sql); those sorts read all matching rows.
    index('projects_owner_active_created_idx').on(table.ownerId, table.isActive, table.createdAt, table.id),
    index('projects_active_created_idx').on(table.isActive, table.createdAt, table.id),
  ],
);

/**
 * Who belongs to a project and as what. The owner has a row too (role `owner`, exactly one per project,
 * kept equal to projects.owner_id by the transfer), so a user's projects, and their role in each, are one
 * index scan whether they own them or were added.
 */
export const projectMembers = pgTable(
  'project_members',
  {
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    role: text('role').$type<ProjectRole>().notNull(),
    // The project's created_at, copied (it never changes): a user's project list pages in this order
    // straight from the index below, however many projects stand behind the page.
    projectCreatedAt: timestamp('project_created_at', { withTimezone: true, mode: 'date' }).notNull(),
    addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    addedBy: uuid('added_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (table) => [
    primaryKey({ columns: [table.projectId, table.userId] }),
    check('project_members_role', sql`${table.role} in (${sql.raw(PROJECT_ROLES.map((role) => `'${role}'`).join(', '))})`),
    uniqueIndex('project_members_one_owner').on(table.projectId).where(sql`${table.role} = 'owner'`),
    index('project_members_user_created_idx').on(table.userId, table.projectCreatedAt, table.projectId),
    // A project's member list, oldest first, keyset-paginated.
    index('project_members_project_added_idx').on(table.projectId, table.addedAt, table.userId),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type ProjectMemberRow = typeof projectMembers.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type RoleName = 'user' | 'admin';
