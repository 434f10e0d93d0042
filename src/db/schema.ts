import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

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
    // Moves on at logout-all, a password change, a deactivation and a role change: access tokens carry the
    // epoch they were issued in, and older ones are refused (lib/actor.ts).
    tokenEpoch: integer('token_epoch').notNull().default(0),
    // When the address was shown to be the owner's (a mailed token, or an account made from an invitation).
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true, mode: 'date' }),
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

/**
 * A login session: a family of refresh tokens, each exchanged for the next at refresh (rotation). Revoking
 * the session ends every token of the family.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    // When its current refresh token expires: the session ends then unless refreshed.
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    userAgent: text('user_agent'),
    ip: text('ip'),
    // The user's token epoch when the session began (or last changed the password): a session older than
    // the user's current epoch cannot refresh, even if a login raced the logout-all that moved it.
    tokenEpoch: integer('token_epoch').notNull().default(0),
  },
  (table) => [
    // A user's live sessions, newest first (GET /auth/sessions, logout-all).
    index('sessions_user_live_idx')
      .on(table.userId, table.createdAt, table.id)
      .where(sql`${table.revokedAt} is null`),
  ],
);

/** Refresh tokens, stored only as SHA-256 hashes. A rotated token stays, so presenting it again is recognised as reuse. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    issuedAt: timestamp('issued_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [index('refresh_tokens_session_idx').on(table.sessionId)],
);

/**
 * Password attempts not yet settled by a success, per throttle key (modules/auth/throttle.ts): an account
 * and client network, an account across every network, or a signed-in user's password change. Keyed by a
 * digest, so the table says nothing about which emails exist, and an attempt is counted before its
 * password is checked.
 */
export const authThrottles = pgTable(
  'auth_throttles',
  {
    keyHash: text('key_hash').primaryKey(),
    attempts: integer('attempts').notNull(),
    blockedUntil: timestamp('blocked_until', { withTimezone: true, mode: 'date' }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    // The last successful login under this key: a network the account logged in from recently is not
    // held back by the account-wide limit.
    succeededAt: timestamp('succeeded_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [index('auth_throttles_last_attempt_idx').on(table.lastAttemptAt)],
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
    // False: every move between two different states is allowed. True: only the pairs in workflow_transitions.
    transitionsRestricted: boolean('transitions_restricted').notNull().default(false),
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
    check(
      'project_members_role',
      sql`${table.role} in (${sql.raw(PROJECT_ROLES.map((role) => `'${role}'`).join(', '))})`,
    ),
    uniqueIndex('project_members_one_owner')
      .on(table.projectId)
      .where(sql`${table.role} = 'owner'`),
    index('project_members_user_created_idx').on(table.userId, table.projectCreatedAt, table.projectId),
    // A project's member list, oldest first, keyset-paginated.
    index('project_members_project_added_idx').on(table.projectId, table.addedAt, table.userId),
  ],
);

/** The fixed categories a project's states belong to; names and order are the team's, timestamps follow the category. */
export const STATE_CATEGORIES = ['backlog', 'unstarted', 'started', 'completed', 'canceled'] as const;
export type StateCategory = (typeof STATE_CATEGORIES)[number];
const quotedList = (values: readonly string[]) => sql.raw(values.map((value) => `'${value}'`).join(', '));

/** The workflow every project starts with (existing projects got it in drizzle/0007). */
export const DEFAULT_WORKFLOW: { name: string; category: StateCategory }[] = [
  { name: 'Backlog', category: 'backlog' },
  { name: 'To do', category: 'unstarted' },
  { name: 'In progress', category: 'started' },
  { name: 'In review', category: 'started' },
  { name: 'Done', category: 'completed' },
  { name: 'Canceled', category: 'canceled' },
];

export const workflowStates = pgTable(
  'workflow_states',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    category: text('category').$type<StateCategory>().notNull(),
    position: integer('position').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    check('workflow_states_category', sql`${table.category} in (${quotedList(STATE_CATEGORIES)})`),
    check('workflow_states_name_length', sql`char_length(${table.name}) between 1 and 100`),
    uniqueIndex('workflow_states_project_name_key').on(table.projectId, sql`lower(${table.name})`),
    index('workflow_states_project_position_idx').on(table.projectId, table.position),
  ],
);

/** The allowed moves of a project whose transitions are restricted (projects.transitions_restricted). */
export const workflowTransitions = pgTable(
  'workflow_transitions',
  {
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    fromStateId: uuid('from_state_id')
      .notNull()
      .references(() => workflowStates.id, { onDelete: 'cascade' }),
    toStateId: uuid('to_state_id')
      .notNull()
      .references(() => workflowStates.id, { onDelete: 'cascade' }),
  },
  (table) => [
    primaryKey({ columns: [table.fromStateId, table.toStateId] }),
    check('workflow_transitions_distinct', sql`${table.fromStateId} <> ${table.toStateId}`),
    index('workflow_transitions_project_idx').on(table.projectId),
  ],
);

/** The last task number handed out per project: numbers are 1, 2, 3, ... with no gap, even under concurrent creates. */
export const projectTaskCounters = pgTable('project_task_counters', {
  projectId: uuid('project_id')
    .primaryKey()
    .references(() => projects.id, { onDelete: 'cascade' }),
  lastNumber: integer('last_number').notNull(),
});

export const TASK_PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

export const tasks = pgTable(
  'tasks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    stateId: uuid('state_id')
      .notNull()
      .references(() => workflowStates.id, { onDelete: 'restrict' }),
    // TASK_PRIORITIES' index, so priority sorts by urgency.
    priority: smallint('priority').notNull().default(0),
    assigneeId: uuid('assignee_id').references(() => users.id, { onDelete: 'set null' }),
    dueDate: date('due_date', { mode: 'string' }),
    // Order within a state: a key compared byte by byte (collation "C", see tasks.position in the migration)
    // that a move places between its neighbours' keys without touching any other row (modules/tasks/tasks.position.ts).
    position: text('position').notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
    canceledAt: timestamp('canceled_at', { withTimezone: true, mode: 'date' }),
    version: integer('version').notNull().default(1),
    isActive: boolean('is_active').notNull().default(true),
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    check('tasks_title_length', sql`char_length(${table.title}) between 1 and 200`),
    check('tasks_description_length', sql`char_length(${table.description}) <= 20000`),
    check('tasks_priority', sql`${table.priority} between 0 and ${sql.raw(String(TASK_PRIORITIES.length - 1))}`),
    check('tasks_number_positive', sql`${table.number} > 0`),
    check('tasks_deleted_consistent', sql`(${table.isActive}) = (${table.deletedAt} is null)`),
    // Numbers are unique per project; a project's task list pages by number through this index.
    uniqueIndex('tasks_project_number_key').on(table.projectId, table.number),
    index('tasks_project_position_idx').on(table.projectId, table.position, table.number),
    index('tasks_state_idx').on(table.stateId),
    // My tasks: a user's assigned tasks, newest first.
    index('tasks_assignee_idx')
      .on(table.assigneeId, table.createdAt, table.id)
      .where(sql`${table.isActive}`),
  ],
);

/** What happened to a task: state changes and (un)assignments, written in the statement that made them. */
export const TASK_EVENT_KINDS = ['state', 'assignee'] as const;
export const taskEvents = pgTable(
  'task_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    taskId: uuid('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<(typeof TASK_EVENT_KINDS)[number]>().notNull(),
    fromId: uuid('from_id'),
    toId: uuid('to_id'),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    check('task_events_kind', sql`${table.kind} in (${quotedList(TASK_EVENT_KINDS)})`),
    index('task_events_task_idx').on(table.taskId, table.id),
  ],
);

/** Every kind of change the audit trail records; a filter may name one, or a family (`project.*`). */
export const AUDIT_ACTIONS = [
  'user.signup',
  'user.update',
  'user.role_change',
  'user.status_change',
  'user.password_change',
  'user.password_reset_request',
  'user.password_reset',
  'user.email_verify_request',
  'user.email_verify',
  'user.email_change_request',
  'user.email_change',
  'session.revoke',
  'session.revoke_all',
  'api_key.create',
  'api_key.revoke',
  'project.create',
  'project.update',
  'project.delete',
  'project.restore',
  'project.transfer',
  'member.add',
  'member.role_change',
  'member.remove',
  'invitation.create',
  'invitation.withdraw',
  'invitation.accept',
  'state.create',
  'state.update',
  'state.delete',
  'state.transitions_replace',
  'task.create',
  'task.update',
  'task.transition',
  'task.delete',
  'task.restore',
  'auth.login_failed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * Who changed what, when, from what to what: written by the statement (or transaction) that makes the
 * change. No foreign keys: events outlive what they describe, and each write pays no extra lookup.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    actorId: uuid('actor_id'),
    action: text('action').$type<AuditAction>().notNull(),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    projectId: uuid('project_id'),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    // Which credential acted: 'session' (an access token) or 'api_key' (with its id); null without one.
    credential: text('credential').$type<'session' | 'api_key'>(),
    apiKeyId: uuid('api_key_id'),
    // Each changed field: {"field": {"old": ..., "new": ...}}. Never a password, hash or token.
    changes: jsonb('changes').$type<Record<string, { old: unknown; new: unknown }>>().notNull(),
  },
  (table) => [
    check('audit_events_action', sql`${table.action} in (${quotedList(AUDIT_ACTIONS)})`),
    check(
      'audit_events_credential',
      sql`${table.credential} in ('session', 'api_key') and (${table.apiKeyId} is null) = (${table.credential} = 'session')`,
    ),
    // Newest first, by keyset: everything (admins, retention), a project's activity, an actor's, an entity's.
    index('audit_events_at_idx').on(table.at, table.id),
    index('audit_events_project_idx')
      .on(table.projectId, table.at, table.id)
      .where(sql`${table.projectId} is not null`),
    index('audit_events_actor_idx').on(table.actorId, table.at, table.id),
    index('audit_events_entity_idx').on(table.entityId, table.at, table.id),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type ProjectMemberRow = typeof projectMembers.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type WorkflowStateRow = typeof workflowStates.$inferSelect;
export type TaskRow = typeof tasks.$inferSelect;
export type TaskEventRow = typeof taskEvents.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type RoleName = 'user' | 'admin';
