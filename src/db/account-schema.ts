import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { projects, users } from './schema.ts';

/*
 * What makes accounts recoverable (modules/accounts): the single-use tokens mailed to a user, the
 * invitations mailed to an address, and the outbox every message waits in until the platform's mail binding
 * has taken it. A token is stored only as its SHA-256 digest; the message that carries it is the only copy.
 */

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const quotedList = (values: readonly string[]) => sql.raw(values.map((value) => `'${value}'`).join(', '));

/**
 * What an account token proves: `password_reset` that the holder reads the account's mail, `email_verify`
 * that the account's address is its owner's, `email_change` that the new address (`email`) is.
 */
export const ACCOUNT_TOKEN_KINDS = ['password_reset', 'email_verify', 'email_change'] as const;
export type AccountTokenKind = (typeof ACCOUNT_TOKEN_KINDS)[number];

export const accountTokens = pgTable(
  'account_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<AccountTokenKind>().notNull(),
    tokenHash: text('token_hash').notNull(),
    // The address the token was mailed to: the account's at the time (reset, verify) or the new one (change).
    email: text('email').notNull(),
    // The user's token epoch when it was issued: a reset or an email change dies when the epoch moves
    // (a password change or reset, logout-all, a role change or a deactivation).
    tokenEpoch: integer('token_epoch').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    expiresAt: at('expires_at').notNull(),
    usedAt: at('used_at'),
  },
  (table) => [
    check('account_tokens_kind', sql`${table.kind} in (${quotedList(ACCOUNT_TOKEN_KINDS)})`),
    uniqueIndex('account_tokens_token_hash_key').on(table.tokenHash),
    // A user's recent tokens of a kind: the per-address limits count them.
    index('account_tokens_user_kind_idx').on(table.userId, table.kind, table.createdAt),
  ],
);

/** Invited roles: anything below the owner. */
export const INVITABLE_ROLES = ['viewer', 'editor', 'manager'] as const;
export type InvitableRole = (typeof INVITABLE_ROLES)[number];

/**
 * An invitation to join a project, mailed to an address (stored lower-case) whether or not an account
 * uses it. Pending while neither accepted nor withdrawn; usable until `expires_at`. Inviting the same
 * address again replaces the pending one (a new token, role and expiry).
 */
export const invitations = pgTable(
  'invitations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: text('role').$type<InvitableRole>().notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    tokenHash: text('token_hash').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    expiresAt: at('expires_at').notNull(),
    acceptedAt: at('accepted_at'),
    acceptedBy: uuid('accepted_by').references(() => users.id, { onDelete: 'set null' }),
    withdrawnAt: at('withdrawn_at'),
  },
  (table) => [
    check('invitations_role', sql`${table.role} in (${quotedList(INVITABLE_ROLES)})`),
    uniqueIndex('invitations_token_hash_key').on(table.tokenHash),
    uniqueIndex('invitations_pending_key')
      .on(table.projectId, table.email)
      .where(sql`${table.acceptedAt} is null and ${table.withdrawnAt} is null`),
    // A project's invitations, newest first, keyset-paginated; an address's pending ones; an inviter's hour.
    index('invitations_project_created_idx').on(table.projectId, table.createdAt, table.id),
    index('invitations_email_pending_idx')
      .on(table.email)
      .where(sql`${table.acceptedAt} is null and ${table.withdrawnAt} is null`),
    index('invitations_inviter_created_idx').on(table.invitedBy, table.createdAt),
  ],
);

/**
 * Mail waiting for the `EMAIL` binding (modules/mail): written by the statement that makes the change the
 * message is about, sent after the response, retried by the Cron Trigger with backoff until `give_up_at`.
 */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // What the message is (a template's name), for the record and the logs, which never show its body.
    kind: text('kind').notNull(),
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    textBody: text('text_body').notNull(),
    htmlBody: text('html_body').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    // A sender claims a message by moving this on (sending in progress); a failure sets it to the backoff.
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    sentAt: at('sent_at'),
    messageId: text('message_id'),
    lastError: text('last_error'),
    gaveUpAt: at('gave_up_at'),
  },
  (table) => [
    // What the retry job looks at: unsent messages by when they are due.
    index('mail_outbox_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`${table.sentAt} is null and ${table.gaveUpAt} is null`),
    index('mail_outbox_created_idx').on(table.createdAt),
  ],
);

export type InvitationRow = typeof invitations.$inferSelect;
