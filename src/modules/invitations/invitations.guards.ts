import { and, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { invitations } from '../../db/account-schema.ts';
import { auditEvents, projectMembers, projects, users } from '../../db/schema.ts';
import { guard, GuardedWrite, type Guard } from '../../db/guards.ts';
import { LAST_HOUR, pendingInvitations, recentActions, retryAfterHourly } from '../../db/fresh-counts.ts';
import { slots } from '../../db/statements.ts';
import { callerGuards, keyReaches } from '../../db/users.ts';
import { AppError, conflict, forbidden, notFound } from '../../lib/problem.ts';
import { belowMemberLimit } from '../members/members.guards.ts';
import { callerMembership } from '../projects/standing.ts';
import { accessGuards } from '../projects/standing.ts';

/*
 * The rules of invitations, each declared once (db/guards.ts). An invitation's facts join the project
 * (`projects`, locked for a new one, so the pending count and the replacement of an address's pending
 * invitation serialise per project), the caller (`users`, locked for a new one, so their hourly count does
 * too) and their membership, and the invitation a request names (`invitations`, locked).
 */

/** Pending (neither accepted nor withdrawn) and not yet expired. */
export const invitationPending = and(
  isNotNull(invitations.id),
  isNull(invitations.acceptedAt),
  isNull(invitations.withdrawnAt),
  gt(invitations.expiresAt, sql`now()`),
)!;

/** What a new invitation is executed with, besides the caller's values. */
export type InviteLimits = { email: string; maxPending: number; perHour: number };
const $ = slots<InviteLimits & { callerId: string }>();

/** A member (the owner included) whose account uses the invited address. */
export const invitee = alias(users, 'invitee');
export const inviteeMembership = alias(projectMembers, 'invitee_membership');

const activeProject = sql`(${projects.id} is not null and ${projects.deletedAt} is null)`;

/** Invitations the caller wrote in the last hour (the audit trail has every one, replacements too), counted after the caller's row is locked. */
const invitedThisHour = recentActions(sql`${$.callerId}::uuid`, 'invitation.create', LAST_HOUR);
/** Seconds until the oldest of them leaves the hour, for Retry-After. */
export const inviterRetryAfter = retryAfterHourly(
  auditEvents,
  auditEvents.at,
  and(eq(auditEvents.actorId, sql`${$.callerId}::uuid`), eq(auditEvents.action, 'invitation.create'))!,
);

/** Pending invitations of the project, but the one to the invited address (a new invitation replaces it). */
const otherPending = pendingInvitations(projects.id, sql`${$.email}::text`);

export interface InviteFacts {
  retryAfter: number | null;
}

/** POST /projects/{id}/invitations (and POST /projects/{id}/members for everyone but admins). */
export const INVITE = new GuardedWrite<InviteFacts>(
  ...callerGuards<InviteFacts>(),
  ...accessGuards<InviteFacts>('manageMembers', activeProject, 'project'),
  guard<InviteFacts>('not_member', isNull(inviteeMembership.userId), () =>
    conflict('already_member', 'an account with this address is already a member of the project'),
  ),
  guard<InviteFacts>('below_pending_limit', sql`${otherPending} < ${$.maxPending}::int`, () =>
    conflict('invitation_limit_reached', 'the project has as many pending invitations as allowed'),
  ),
  guard<InviteFacts>(
    'below_hourly_limit',
    sql`${invitedThisHour} < ${$.perHour}::int`,
    (facts) =>
      new AppError('rate_limited', 'too many invitations sent in the last hour; retry later', {
        headers: { 'Retry-After': String(Math.max(1, facts.retryAfter ?? 1)) },
      }),
  ),
);

/** DELETE /projects/{id}/invitations/{invitation_id}: a pending invitation of that project. */
export const WITHDRAW = new GuardedWrite(
  ...callerGuards(),
  ...accessGuards('manageMembers', activeProject, 'project'),
  guard(
    'invitation_known',
    and(isNotNull(invitations.id), isNull(invitations.acceptedAt), isNull(invitations.withdrawnAt))!,
    () => notFound('pending invitation'),
  ),
);

/** The invitation is the caller's: sent to their address, which they have verified. */
const addressedToCaller = guard('addressed_to_caller', sql`lower(${users.email}) = ${invitations.email}`, () =>
  forbidden('invitation_mismatch', 'this invitation was sent to another address than your account’s'),
);
const callerVerified = guard('email_verified', isNotNull(users.emailVerifiedAt), () =>
  forbidden('email_unverified', 'verify your email address first (POST /auth/email/verify)'),
);
/** Then the membership it makes: the project still active, the caller not a member yet, and room left. */
const joining: Guard<unknown>[] = [
  guard('project_active', sql`${projects.deletedAt} is null`, () => notFound('project')),
  guard(
    'not_member',
    isNull(callerMembership.userId),
    () => conflict('already_member', 'you are already a member of this project'),
    'project_members_project_id_user_id_pk',
  ),
  belowMemberLimit,
];

const invitationInvalid = () =>
  new AppError('invitation_invalid', 'the invitation is unknown, accepted, withdrawn or expired');

/** An API key limited to some projects neither learns of nor joins any other: as unknown as a wrong token or id. */
const keyReachesProject = (refusal: () => AppError) =>
  guard('key_reaches_project', keyReaches(invitations.projectId), refusal);

/** POST /invitations/accept: the token finds a pending invitation (one answer for every other case). */
export const ACCEPT_BY_TOKEN = new GuardedWrite(
  ...callerGuards(),
  guard('invitation_usable', invitationPending, invitationInvalid),
  keyReachesProject(invitationInvalid),
  addressedToCaller,
  callerVerified,
  ...joining,
);

/** POST /invitations/{id}/accept: one of the caller's pending invitations (GET /invitations). */
export const ACCEPT_BY_ID = new GuardedWrite(
  ...callerGuards(),
  guard('invitation_known', isNotNull(invitations.id), () => notFound('invitation')),
  keyReachesProject(() => notFound('invitation')),
  addressedToCaller,
  guard('invitation_pending', invitationPending, () =>
    conflict('invitation_not_pending', 'the invitation was accepted, withdrawn or has expired'),
  ),
  callerVerified,
  ...joining,
);
