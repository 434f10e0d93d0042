import { eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import { guard, GuardedWrite } from '../../db/guards.ts';
import { projectMembers, projects, users } from '../../db/schema.ts';
import { slots } from '../../db/statements.ts';
import type { CallerValues } from '../../db/users.ts';
import { AppError, conflict, forbidden, notFound } from '../../lib/problem.ts';
import { callerGuards, callerIsAdmin } from '../../db/users.ts';
import { accessGuards } from '../projects/standing.ts';

/*
 * The rules of every membership change, each declared once (db/guards.ts), in the order a refusal names
 * them. Their facts CTE joins the project (`projects`), the caller's `users` row and `caller_membership`,
 * and the membership being changed (`project_members`, locked) or, for an add, the user the email names
 * (`target`) and any membership they already have (`target_membership`).
 */

const subquery = new QueryBuilder();

/** What a change of one membership is executed with: the caller, and the project and user it names. */
export type MembershipValues = CallerValues & { projectId: string; userId: string };
const $ = slots<MembershipValues>();

/** The cap the trigger of migration 0011 enforces, and the SQLSTATE it raises. */
export const MAX_MEMBERS_PER_PROJECT = 1000;
const MEMBER_LIMIT_SQLSTATE = 'AFM01';

/** The user an add names by email, and the membership they may already have. */
export const target = alias(users, 'target');
export const targetMembership = alias(projectMembers, 'target_membership');

const activeProject = sql`(${projects.id} is not null and ${projects.deletedAt} is null)`;
const managing = [...callerGuards(), ...accessGuards('manageMembers', activeProject, 'project')];

/**
 * Room for one more member in the project (`projects` in the facts). The guard answers from the statement's
 * snapshot; the trigger (migration 0011) counts again after the project's lock, and its error is this
 * guard's refusal all the same.
 */
export const belowMemberLimit = guard(
  'below_member_limit',
  sql`(${subquery
    .select({ count: sql`count(*)` })
    .from(projectMembers)
    .where(eq(projectMembers.projectId, projects.id))}) < ${sql.raw(String(MAX_MEMBERS_PER_PROJECT))}`,
  () => new AppError('member_limit_reached', `a project has at most ${MAX_MEMBERS_PER_PROJECT} members`),
  MEMBER_LIMIT_SQLSTATE,
);

/**
 * Adding an existing account at once: the admin override (members.handlers.ts sends everyone else to an
 * invitation, which the invitee accepts). The write says so itself rather than trusting its caller.
 */
export const ADD = new GuardedWrite(
  ...callerGuards(),
  guard('admin_override', callerIsAdmin, () =>
    forbidden('role_required', 'adding an account at once needs the admin role; invite the address instead'),
  ),
  guard('project_known', activeProject, () => notFound('project')),
  guard('user_known', sql`(${target.id} is not null and ${target.isActive})`, () =>
    notFound('an active user with this email'),
  ),
  guard('not_self', sql`${target.id} <> ${$.callerId}::uuid`, () =>
    conflict('self_membership', 'you cannot add yourself'),
  ),
  guard('not_owner', sql`${targetMembership.role} is distinct from 'owner'`, () =>
    conflict('already_member', 'that user owns the project'),
  ),
  // A concurrent add of the same user passes this guard and then loses to the primary key.
  guard(
    'not_member',
    isNull(targetMembership.userId),
    () => conflict('already_member', 'that user is already a member'),
    'project_members_project_id_user_id_pk',
  ),
  belowMemberLimit,
);

const memberKnown = guard('member_known', isNotNull(projectMembers.userId), () => notFound('member'));
const changingSelf = sql`${$.userId}::uuid = ${$.callerId}::uuid`;

export const CHANGE_ROLE = new GuardedWrite(
  ...managing,
  guard('not_self', sql`not ${changingSelf}`, () => conflict('self_membership', 'you cannot change your own role')),
  memberKnown,
  guard('not_owner', sql`${projectMembers.role} <> 'owner'`, () =>
    conflict('owner_immutable', "the owner's role cannot be changed; transfer the project instead"),
  ),
);

/** Removing a member: managers remove anyone but the owner, and any member may leave. */
export const REMOVE = new GuardedWrite(
  ...callerGuards(),
  ...accessGuards('manageMembers', activeProject, 'project', changingSelf),
  memberKnown,
  guard('not_owner', sql`${projectMembers.role} <> 'owner'`, () =>
    conflict('owner_immutable', 'the owner cannot be removed; transfer the project first'),
  ),
);
