import { and, desc, eq, getTableColumns, sql } from 'drizzle-orm';
import type { AppConfig } from '../../config.ts';
import { invitations, type InvitationRow } from '../../db/account-schema.ts';
import { auditOf, changesOf } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { lockedRow, oneRow } from '../../db/guards.ts';
import {
  afterCursor,
  cappedCount,
  pageValues,
  pageWindow,
  regroup,
  sortKeyText,
  type PageValues,
} from '../../db/pagination.ts';
import { projectMembers, projects, users, type ProjectRole } from '../../db/schema.ts';
import { FLAG, slots, statement, statementFamily } from '../../db/statements.ts';
import { keyReaches, actorColumns, callerValues, isCaller, type CallerValues } from '../../db/users.ts';
import type { Caller } from '../../lib/actor.ts';
import { toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { forbidden } from '../../lib/problem.ts';
import { newAccountToken, presentedTokenHash } from '../accounts/tokens.ts';
import { invitationMessage } from '../mail/mail.messages.ts';
import { mailValues, outboxIdColumn, outboxIds, outboxOf, type MailValues } from '../mail/mail.outbox.ts';
import type { MemberView } from '../members/members.schemas.ts';
import { writtenMemberColumns } from '../members/members.service.ts';
import {
  callerFrom,
  callerMembership,
  joinCallerMembership,
  pageWithStanding,
  toPageWithStanding,
} from '../projects/standing.ts';
import {
  ACCEPT_BY_ID,
  ACCEPT_BY_TOKEN,
  INVITE,
  invitationPending,
  invitee,
  inviteeMembership,
  inviterRetryAfter,
  WITHDRAW,
  type InviteLimits,
} from './invitations.guards.ts';
import type { InvitationView } from './invitations.schemas.ts';

/*
 * Invitations: a project's managers invite an address, whether or not an account uses it (the answer is
 * the same either way); the invitation's token goes only into the message. The invitee accepts signed in
 * with that address verified (or with an account made from the link, which verifies it) and becomes a
 * member with the invited role. Every write is one guarded statement (invitations.guards.ts) with its event
 * and, for a new invitation, its message (mail/mail.outbox.ts), sent after the response.
 */

const invitationColumns = getTableColumns(invitations);

type InviteValues = CallerValues &
  InviteLimits &
  MailValues<'mail'> & { projectId: string; role: string; tokenHash: string; seconds: number };

const CREATE_INVITATION = statement('create_invitation', slots<InviteValues>(), (db, $) => {
  const facts = db.$with('facts').as(
    db
      .select(
        INVITE.facts({
          projectId: sql<string>`${projects.id}`.as('project_id'),
          projectName: sql<string>`${projects.name}`.as('project_name'),
          inviterName: sql<string>`coalesce(${users.fullName}, ${users.email})`.as('inviter_name'),
          retryAfter: inviterRetryAfter.as('retry_after'),
        }),
      )
      .from(oneRow)
      .leftJoinLateral(lockedRow(projects, eq(projects.id, $.projectId)), sql`true`)
      .leftJoinLateral(lockedRow(users, isCaller($)!), sql`true`)
      .leftJoin(callerMembership, joinCallerMembership())
      .leftJoin(invitee, eq(sql`lower(${invitee.email})`, $.email))
      .leftJoin(
        inviteeMembership,
        and(eq(inviteeMembership.projectId, projects.id), eq(inviteeMembership.userId, invitee.id)),
      ),
  );
  // A pending invitation to the same address is replaced: a new token (the old link stops working), role
  // and expiry.
  const written = db.$with('written').as(
    db
      .insert(invitations)
      .select(
        db
          .select({
            id: sql<string>`gen_random_uuid()`.as('id'),
            projectId: facts.projectId,
            email: sql<string>`${$.email}::text`.as('email'),
            role: sql<string>`${$.role}::text`.as('role'),
            invitedBy: sql<string>`${$.callerId}::uuid`.as('invited_by'),
            tokenHash: sql<string>`${$.tokenHash}::text`.as('token_hash'),
            createdAt: sql<Date>`now()`.as('created_at'),
            expiresAt: sql<Date>`now() + make_interval(secs => ${$.seconds}::int)`.as('expires_at'),
            acceptedAt: sql<Date | null>`null::timestamptz`.as('accepted_at'),
            acceptedBy: sql<string | null>`null::uuid`.as('accepted_by'),
            withdrawnAt: sql<Date | null>`null::timestamptz`.as('withdrawn_at'),
          })
          .from(facts)
          .where(INVITE.allHold(facts)),
      )
      .onConflictDoUpdate({
        target: [invitations.projectId, invitations.email],
        targetWhere: sql`accepted_at is null and withdrawn_at is null`,
        set: {
          role: sql`excluded.role`,
          invitedBy: sql`excluded.invited_by`,
          tokenHash: sql`excluded.token_hash`,
          createdAt: sql`excluded.created_at`,
          expiresAt: sql`excluded.expires_at`,
        },
      })
      .returning(),
  );
  const mail = db.$with('mail', outboxIdColumn).as(
    outboxOf($, 'mail', {
      from: sql`${written} cross join ${facts}`,
      recipient: written.email,
      fill: { project: facts.projectName, inviter: facts.inviterName, role: written.role },
    }),
  );
  const audit = db.$with('audit', {}).as(
    auditOf($, 'invitation.create', 'invitation', {
      from: written,
      entityId: written.id,
      projectId: written.projectId,
      changes: changesOf([
        ['email', null, written.email],
        ['role', null, written.role],
      ]),
    }),
  );
  return db
    .with(facts, written, mail, audit)
    .select({
      guards: INVITE.results(facts),
      facts: { retryAfter: facts.retryAfter },
      invitation: regroup(invitationColumns, written),
      mailIds: outboxIds(mail),
    })
    .from(facts)
    .leftJoin(written, sql`true`);
});

export type InviteInput = { email: string; role: Exclude<ProjectRole, 'owner'> };

/** A new invitation (or the renewal of the address's pending one), mailed after the response. */
export async function inviteToProject(
  db: Database,
  caller: Caller,
  projectId: string,
  input: InviteInput,
  config: AppConfig,
): Promise<{ invitation: InvitationRow; mailIds: number[] }> {
  const { token, tokenHash } = await newAccountToken();
  const days = config.accounts.invitationSeconds / 86_400;
  const row = await INVITE.run(
    CREATE_INVITATION.on(db).execute({
      ...callerValues(caller),
      ...mailValues('mail', invitationMessage(config.mail, token, days)),
      projectId,
      email: input.email,
      role: input.role,
      tokenHash,
      seconds: config.accounts.invitationSeconds,
      maxPending: config.accounts.maxPendingInvitations,
      perHour: config.accounts.invitationsPerHour,
    }),
  );
  const invitation = INVITE.outcome({ guards: row.guards, facts: row.facts, written: row.invitation });
  return { invitation, mailIds: row.mailIds };
}

const WITHDRAW_INVITATION = statement(
  'withdraw_invitation',
  slots<CallerValues & { projectId: string; invitationId: string }>(),
  (db, $) => {
    const facts = db.$with('facts').as(
      db
        .select(WITHDRAW.facts({ invitationId: sql<string>`${invitations.id}`.as('invitation_id') }))
        .from(oneRow)
        .leftJoin(projects, eq(projects.id, $.projectId))
        .leftJoinLateral(
          lockedRow(invitations, and(eq(invitations.id, $.invitationId), eq(invitations.projectId, $.projectId))!),
          sql`true`,
        )
        .leftJoin(users, isCaller($))
        .leftJoin(callerMembership, joinCallerMembership()),
    );
    const withdrawn = db.$with('withdrawn').as(
      db
        .update(invitations)
        .set({ withdrawnAt: sql`now()` })
        .from(facts)
        .where(and(eq(invitations.id, facts.invitationId), WITHDRAW.allHold(facts)))
        .returning({ id: invitations.id, projectId: invitations.projectId, withdrawnAt: invitations.withdrawnAt }),
    );
    const audit = db.$with('audit', {}).as(
      auditOf($, 'invitation.withdraw', 'invitation', {
        from: withdrawn,
        entityId: withdrawn.id,
        projectId: withdrawn.projectId,
        changes: changesOf([['withdrawn_at', null, withdrawn.withdrawnAt]]),
      }),
    );
    return db
      .with(facts, withdrawn, audit)
      .select({ guards: WITHDRAW.results(facts), withdrawn: { id: withdrawn.id } })
      .from(facts)
      .leftJoin(withdrawn, sql`true`);
  },
);

export async function withdrawInvitation(db: Database, caller: Caller, projectId: string, invitationId: string) {
  const row = await WITHDRAW.run(
    WITHDRAW_INVITATION.on(db).execute({ ...callerValues(caller), projectId, invitationId }),
  );
  WITHDRAW.outcome({ guards: row.guards, facts: {}, written: row.withdrawn });
}

const PROJECT_INVITATIONS = statementFamily(
  'project_invitations',
  { after: FLAG },
  slots<CallerValues & PageValues & { projectId: string }>(),
  (db, shape, $) => {
    const pending = and(eq(invitations.projectId, $.projectId), invitationPending);
    const page = pageWindow(
      db
        .select({ ...invitationColumns, sortKey: sortKeyText(invitations.createdAt).as('sort_key') })
        .from(invitations)
        .where(and(pending, shape.after ? afterCursor('desc', invitations.createdAt, invitations.id) : undefined))
        .orderBy(desc(invitations.createdAt), desc(invitations.id))
        .$dynamic(),
    ).as('page');
    return pageWithStanding(db, $, page, {
      item: regroup(invitationColumns, page),
      sortKey: page.sortKey,
      total: cappedCount(
        db
          .select({ one: sql`1` })
          .from(invitations)
          .where(pending)
          .$dynamic(),
      ),
    });
  },
);

/** A project's pending invitations, newest first, for those who may manage its members. */
export async function listProjectInvitations(
  db: Database,
  caller: Caller,
  projectId: string,
  pageRequest: PageRequest,
): Promise<Page<InvitationView>> {
  const rows = await PROJECT_INVITATIONS.on(db, { after: pageRequest.after !== undefined }).execute({
    ...callerValues(caller),
    projectId,
    ...pageValues(pageRequest),
  });
  return toPageWithStanding(
    rows,
    caller,
    'manageMembers',
    pageRequest,
    (invitation) => invitation.id,
  ) as Page<InvitationView>;
}

const MY_INVITATIONS = statementFamily(
  'my_invitations',
  { after: FLAG },
  slots<CallerValues & PageValues>(),
  (db, shape, $) => {
    const mine = and(
      eq(invitations.email, sql`lower(${users.email})`),
      invitationPending,
      sql`${projects.deletedAt} is null`,
      keyReaches(invitations.projectId),
    );
    const page = pageWindow(
      db
        .select({
          ...invitationColumns,
          projectName: projects.name,
          sortKey: sortKeyText(invitations.createdAt).as('sort_key'),
        })
        .from(invitations)
        .innerJoin(projects, eq(projects.id, invitations.projectId))
        .where(and(mine, shape.after ? afterCursor('desc', invitations.createdAt, invitations.id) : undefined))
        .orderBy(desc(invitations.createdAt), desc(invitations.id))
        .$dynamic(),
    ).as('page');
    return db
      .select({
        actor: actorColumns,
        verified: sql<boolean>`${users.emailVerifiedAt} is not null`,
        invitation: regroup({ ...invitationColumns, projectName: projects.name }, page),
        sortKey: page.sortKey,
        total: cappedCount(
          db
            .select({ one: sql`1` })
            .from(invitations)
            .innerJoin(projects, eq(projects.id, invitations.projectId))
            .where(mine)
            .$dynamic(),
        ),
      })
      .from(users)
      .leftJoinLateral(page, sql`true`)
      .where(isCaller($));
  },
);

/** GET /invitations: the caller's pending invitations, to their verified address. */
export async function listMyInvitations(
  db: Database,
  caller: Caller,
  pageRequest: PageRequest,
): Promise<Page<InvitationView & { projectName: string }>> {
  const rows = await MY_INVITATIONS.on(db, { after: pageRequest.after !== undefined }).execute({
    ...callerValues(caller),
    ...pageValues(pageRequest),
  });
  const first = rows[0];
  callerFrom(caller, first?.actor);
  if (!first!.verified) throw forbidden('email_unverified', 'verify your email address to see its invitations');
  return toPage(
    rows.filter((row) => row.invitation !== null && row.invitation.id !== null),
    pageRequest,
    { count: first!.total, item: (row) => row.invitation!, key: (row) => [row.sortKey!, row.invitation!.id] },
  );
}

/** Accepting, by the token from the message or by id: the membership, the invitation spent, both events. */
const ACCEPT_INVITATION = statementFamily(
  'accept_invitation',
  { by: ['token', 'id'] },
  slots<CallerValues & { tokenHash: string; invitationId: string }>(),
  (db, shape, $) => {
    const write = shape.by === 'token' ? ACCEPT_BY_TOKEN : ACCEPT_BY_ID;
    const named = shape.by === 'token' ? eq(invitations.tokenHash, $.tokenHash) : eq(invitations.id, $.invitationId);
    const facts = db.$with('facts').as(
      db
        .select(
          write.facts({
            invitationId: sql<string>`${invitations.id}`.as('invitation_id'),
            memberProjectId: sql<string>`${projects.id}`.as('member_project_id'),
            projectCreatedAt: sql<Date>`${projects.createdAt}`.as('project_created_at'),
            role: sql<string>`${invitations.role}`.as('invited_role'),
            invitedBy: sql<string | null>`${invitations.invitedBy}`.as('invited_by'),
          }),
        )
        .from(oneRow)
        .leftJoinLateral(lockedRow(invitations, named), sql`true`)
        .leftJoinLateral(lockedRow(projects, eq(projects.id, invitations.projectId)), sql`true`)
        .leftJoin(users, isCaller($))
        .leftJoin(callerMembership, joinCallerMembership()),
    );
    const added = db.$with('added').as(
      db
        .insert(projectMembers)
        .select(
          db
            .select({
              projectId: facts.memberProjectId,
              userId: sql<string>`${$.callerId}::uuid`.as('user_id'),
              role: sql<ProjectRole>`${facts.role}`.as('role'),
              projectCreatedAt: facts.projectCreatedAt,
              addedAt: sql<Date>`now()`.as('added_at'),
              addedBy: sql<string | null>`${facts.invitedBy}`.as('added_by'),
            })
            .from(facts)
            .where(write.allHold(facts)),
        )
        .returning(writtenMemberColumns),
    );
    const accepted = db.$with('accepted').as(
      db
        .update(invitations)
        .set({ acceptedAt: sql`now()`, acceptedBy: sql`${$.callerId}::uuid` })
        .from(facts)
        .where(and(eq(invitations.id, facts.invitationId), sql`exists (select 1 from ${added})`))
        .returning({ id: invitations.id, projectId: invitations.projectId, role: invitations.role }),
    );
    const acceptEvent = db.$with('accept_event', {}).as(
      auditOf($, 'invitation.accept', 'invitation', {
        from: accepted,
        entityId: accepted.id,
        projectId: accepted.projectId,
        changes: changesOf([['accepted_by', null, sql`${$.callerId}::uuid`]]),
      }),
    );
    const memberEvent = db.$with('member_event', {}).as(
      auditOf($, 'member.add', 'member', {
        from: added,
        entityId: added.userId,
        projectId: added.projectId,
        changes: changesOf([['role', null, added.role]]),
      }),
    );
    return db
      .with(facts, added, accepted, acceptEvent, memberEvent)
      .select({
        guards: write.results(facts),
        member: regroup(writtenMemberColumns, added),
      })
      .from(facts)
      .leftJoin(added, sql`true`);
  },
);

/** POST /invitations/accept and POST /invitations/{id}/accept: the caller becomes a member. */
export async function acceptInvitation(
  db: Database,
  caller: Caller,
  by: { token: string } | { invitationId: string },
): Promise<MemberView> {
  const write = 'token' in by ? ACCEPT_BY_TOKEN : ACCEPT_BY_ID;
  const row = await write.run(
    ACCEPT_INVITATION.on(db, { by: 'token' in by ? 'token' : 'id' }).execute({
      ...callerValues(caller),
      tokenHash: 'token' in by ? await presentedTokenHash(by.token) : '',
      invitationId: 'invitationId' in by ? by.invitationId : '00000000-0000-0000-0000-000000000000',
    }),
  );
  return write.outcome({ guards: row.guards, facts: {}, written: row.member as MemberView | null });
}
