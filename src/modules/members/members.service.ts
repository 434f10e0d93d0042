import { and, asc, eq, getTableColumns, sql, type SQLWrapper } from 'drizzle-orm';
import { alias, QueryBuilder, type SelectedFields } from 'drizzle-orm/pg-core';
import { auditOf, changesOf, auditInsertPerCall, type AuditField } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { GuardedWrite, lockedRow, oneRow } from '../../db/guards.ts';
import type { Caller } from '../../lib/actor.ts';
import {
  afterCursor,
  cappedCount,
  pageValues,
  pageWindow,
  regroup,
  sortKeyText,
  type PageValues,
} from '../../db/pagination.ts';
import { projectMembers, projects, tasks, users, type ProjectRole } from '../../db/schema.ts';
import { FLAG, slots, statement, statementFamily, type Slots } from '../../db/statements.ts';
import { historyOf } from '../tasks/tasks.moves.ts';
import { callerValues, isCaller, type CallerValues } from '../../db/users.ts';
import { type Page, type PageRequest } from '../../lib/pagination.ts';
import { conflict, notFound } from '../../lib/problem.ts';
import { requireAccess } from '../projects/access.ts';
import type { ProjectView } from '../projects/projects.service.ts';
import {
  callerMembership,
  findProjectWithStanding,
  joinCallerMembership,
  pageWithStanding,
  toPageWithStanding,
} from '../projects/standing.ts';
import { ADD, CHANGE_ROLE, REMOVE, target, targetMembership, type MembershipValues } from './members.guards.ts';
import { type MemberView } from './members.schemas.ts';

export { MAX_MEMBERS_PER_PROJECT } from './members.guards.ts';

/*
 * Members of a project: the access rules are access.ts's, checked in the statement that reads or writes
 * (standing.ts). Adding, changing and removing a member are one guarded statement each (members.guards.ts),
 * a refusal included. The transfer is a short transaction that locks the project row, because it moves
 * the owner role between two rows and the project, and must serialise with every other membership change.
 */

/** The member's users row, beside the caller's (`users`) in the same statement. */
const memberUser = alias(users, 'member_user');

const subquery = new QueryBuilder();
const memberColumns = getTableColumns(projectMembers);

const PROJECT_MEMBERS = statementFamily(
  'project_members',
  { after: FLAG },
  slots<CallerValues & PageValues & { projectId: string }>(),
  (db, shape, $) => {
    const page = pageWindow(
      db
        .select({
          ...memberColumns,
          email: memberUser.email,
          fullName: memberUser.fullName,
          sortKey: sortKeyText(projectMembers.addedAt).as('sort_key'),
        })
        .from(projectMembers)
        .innerJoin(memberUser, eq(memberUser.id, projectMembers.userId))
        .where(
          and(
            eq(projectMembers.projectId, $.projectId),
            shape.after ? afterCursor('asc', projectMembers.addedAt, projectMembers.userId) : undefined,
          ),
        )
        .orderBy(asc(projectMembers.addedAt), asc(projectMembers.userId))
        .$dynamic(),
    ).as('page');
    return pageWithStanding(db, $, page, {
      item: regroup({ ...memberColumns, email: memberUser.email, fullName: memberUser.fullName }, page),
      sortKey: page.sortKey,
      total: cappedCount(
        db
          .select({ one: sql`1` })
          .from(projectMembers)
          .where(eq(projectMembers.projectId, $.projectId))
          .$dynamic(),
      ),
    });
  },
);

/** A project's members, oldest first, with the caller's right to read them checked in the same statement. */
export async function listMembers(
  db: Database,
  caller: Caller,
  projectId: string,
  pageRequest: PageRequest,
): Promise<Page<MemberView>> {
  const rows = await PROJECT_MEMBERS.on(db, { after: pageRequest.after !== undefined }).execute({
    ...callerValues(caller),
    projectId,
    ...pageValues(pageRequest),
  });
  return toPageWithStanding(rows, caller, 'readMembers', pageRequest, (member) => member.userId) as Page<MemberView>;
}

/** For a write's RETURNING: the written member's email and name, read beside the row. */
const memberUserFields = {
  email:
    sql<string>`(${subquery.select({ email: memberUser.email }).from(memberUser).where(eq(memberUser.id, projectMembers.userId))})`.as(
      'email',
    ),
  fullName: sql<
    string | null
  >`(${subquery.select({ fullName: memberUser.fullName }).from(memberUser).where(eq(memberUser.id, projectMembers.userId))})`.as(
    'full_name',
  ),
};
/** A written membership as responses show it: its row, and the member's email and name. */
export const writtenMemberColumns = { ...memberColumns, ...memberUserFields };

/** The audit events of the memberships a statement wrote (`rows`, a CTE of them): one field, the role. */
const auditedMembers = (rows: { userId: SQLWrapper; projectId: SQLWrapper } & SQLWrapper, role: AuditField) => ({
  from: rows,
  entityId: rows.userId,
  projectId: rows.projectId,
  changes: changesOf([role]),
});

/** The membership `userId` names in the project `projectId`, locked, for a change's facts. */
const lockedMembership = ($: Slots<MembershipValues>) =>
  lockedRow(projectMembers, and(eq(projectMembers.projectId, $.projectId), eq(projectMembers.userId, $.userId))!);

/** The facts CTE's FROM for a change of an existing membership: it, its project, the caller. */
const membershipFacts = <Selection extends SelectedFields>(
  db: Database,
  $: Slots<MembershipValues>,
  write: GuardedWrite,
  selection: Selection,
) =>
  db
    .select(
      write.facts({
        // Named apart from the columns of `project_members`, which the UPDATE's RETURNING names unqualified.
        memberProjectId: sql<string>`${projects.id}`.as('member_project_id'),
        memberUserId: sql<string>`${projectMembers.userId}`.as('member_user_id'),
        ...selection,
      }),
    )
    .from(oneRow)
    .leftJoinLateral(lockedMembership($), sql`true`)
    .leftJoin(projects, eq(projects.id, $.projectId))
    .leftJoin(users, isCaller($))
    .leftJoin(callerMembership, joinCallerMembership());

const ADD_MEMBER = statement(
  'add_member',
  slots<CallerValues & { projectId: string; email: string; role: ProjectRole }>(),
  (db, $) => {
    const facts = db.$with('facts').as(
      db
        .select(
          ADD.facts({
            projectId: sql<string>`${projects.id}`.as('project_id'),
            projectCreatedAt: sql<Date>`${projects.createdAt}`.as('project_created_at'),
            targetId: sql<string>`${target.id}`.as('target_id'),
          }),
        )
        .from(oneRow)
        .leftJoinLateral(lockedRow(projects, eq(projects.id, $.projectId)), sql`true`)
        .leftJoin(users, isCaller($))
        .leftJoin(callerMembership, joinCallerMembership())
        .leftJoin(target, eq(sql`lower(${target.email})`, $.email))
        .leftJoin(
          targetMembership,
          and(eq(targetMembership.projectId, projects.id), eq(targetMembership.userId, target.id)),
        ),
    );
    const added = db.$with('added').as(
      db
        .insert(projectMembers)
        .select(
          subquery
            .select({
              projectId: facts.projectId,
              userId: sql<string>`${facts.targetId}`.as('user_id'),
              role: sql<ProjectRole>`${$.role}`.as('role'),
              projectCreatedAt: facts.projectCreatedAt,
              addedAt: sql<Date>`now()`.as('added_at'),
              addedBy: sql<string>`${$.callerId}::uuid`.as('added_by'),
            })
            .from(facts)
            .where(ADD.allHold(facts)),
        )
        .returning(writtenMemberColumns),
    );
    const audit = db
      .$with('audit', {})
      .as(auditOf($, 'member.add', 'member', auditedMembers(added, ['role', null, added.role])));
    return db
      .with(facts, added, audit)
      .select({ guards: ADD.results(facts), member: regroup(writtenMemberColumns, added) })
      .from(facts)
      .leftJoin(added, sql`true`);
  },
);

/**
 * Adds the active user with `email` in one guarded statement (members.guards.ts). The project row is
 * locked, so an add cannot interleave with a transfer or another add; a concurrent add of the same user
 * loses to the primary key, which its guard names. A project has at most MAX_MEMBERS_PER_PROJECT members,
 * counted again by a trigger (migration 0011) after that lock.
 */
export async function addMember(
  db: Database,
  caller: Caller,
  projectId: string,
  input: { email: string; role: ProjectRole },
): Promise<MemberView> {
  const row = await ADD.run(
    ADD_MEMBER.on(db).execute({ ...callerValues(caller), projectId, email: input.email, role: input.role }),
  );
  return ADD.outcome({ guards: row.guards, facts: {}, written: row.member });
}

const CHANGE_MEMBER_ROLE = statement(
  'change_member_role',
  slots<MembershipValues & { role: ProjectRole }>(),
  (db, $) => {
    const facts = db
      .$with('facts')
      .as(membershipFacts(db, $, CHANGE_ROLE, { oldRole: sql<ProjectRole>`${projectMembers.role}`.as('old_role') }));
    const changed = db.$with('changed').as(
      db
        .update(projectMembers)
        .set({ role: sql`${$.role}` })
        .from(facts)
        .where(
          and(
            eq(projectMembers.projectId, facts.memberProjectId),
            eq(projectMembers.userId, facts.memberUserId),
            CHANGE_ROLE.allHold(facts),
          ),
        )
        .returning({ ...writtenMemberColumns, oldRole: facts.oldRole }),
    );
    const audit = db
      .$with('audit', {})
      .as(auditOf($, 'member.role_change', 'member', auditedMembers(changed, ['role', changed.oldRole, changed.role])));
    return db
      .with(facts, changed, audit)
      .select({ guards: CHANGE_ROLE.results(facts), member: regroup(writtenMemberColumns, changed) })
      .from(facts)
      .leftJoin(changed, sql`true`);
  },
);

export async function changeMemberRole(
  db: Database,
  caller: Caller,
  projectId: string,
  userId: string,
  role: ProjectRole,
): Promise<MemberView> {
  const row = await CHANGE_ROLE.run(
    CHANGE_MEMBER_ROLE.on(db).execute({ ...callerValues(caller), projectId, userId, role }),
  );
  return CHANGE_ROLE.outcome({ guards: row.guards, facts: {}, written: row.member });
}

const REMOVE_MEMBER = statement('remove_member', slots<MembershipValues>(), (db, $) => {
  const facts = db.$with('facts').as(membershipFacts(db, $, REMOVE, {}));
  const removed = db.$with('removed').as(
    db
      .delete(projectMembers)
      .where(
        and(
          eq(projectMembers.projectId, $.projectId),
          eq(projectMembers.userId, $.userId),
          sql`(select ${REMOVE.allHold(facts)} from ${facts})`,
        ),
      )
      .returning({ userId: projectMembers.userId, projectId: projectMembers.projectId, role: projectMembers.role }),
  );
  const removal = db
    .$with('removal', {})
    .as(auditOf($, 'member.remove', 'member', auditedMembers(removed, ['role', removed.role, null])));
  const unassigned = db.$with('unassigned').as(
    db
      .update(tasks)
      .set({ assigneeId: null, version: sql`${tasks.version} + 1`, updatedAt: sql`now()` })
      .where(
        and(eq(tasks.projectId, $.projectId), sql`${tasks.assigneeId} in (select ${removed.userId} from ${removed})`),
      )
      .returning({
        taskId: sql<string>`${tasks.id}`.as('task_id'),
        fromId: sql<string>`${$.userId}::uuid`.as('from_id'),
        toId: sql<null>`null::uuid`.as('to_id'),
      }),
  );
  const rows = { from: unassigned, taskId: unassigned.taskId, fromId: unassigned.fromId, toId: unassigned.toId };
  const history = db.$with('history', {}).as(historyOf('assignee', $.callerId, rows));
  const unassignment = db.$with('unassignment', {}).as(
    auditOf($, 'task.update', 'task', {
      from: unassigned,
      entityId: unassigned.taskId,
      projectId: sql`${$.projectId}::uuid`,
      changes: changesOf([['assignee_id', unassigned.fromId, unassigned.toId]]),
    }),
  );
  return db
    .with(facts, removed, removal, unassigned, history, unassignment)
    .select({ guards: REMOVE.results(facts), removed: { userId: removed.userId } })
    .from(facts)
    .leftJoin(removed, sql`true`);
});

/**
 * Removes a member: by a manager (or the owner, or an admin), or by the member themselves (leaving). Never
 * the owner. Their tasks in the project are unassigned in the same statement, each with a history entry.
 */
export async function removeMember(db: Database, caller: Caller, projectId: string, userId: string): Promise<void> {
  const row = await REMOVE.run(REMOVE_MEMBER.on(db).execute({ ...callerValues(caller), projectId, userId }));
  REMOVE.outcome({ guards: row.guards, facts: {}, written: row.removed });
}

/**
 * Makes the member `newOwnerId` the owner; the previous owner stays as a manager. The transaction locks
 * the project row first, so transfers, and the membership changes that lock it too (adds), run one at a
 * time, each against what the previous one left; the new owner's membership row is locked before it is
 * checked, so a concurrent removal either finishes first (and the transfer is refused) or waits and then
 * finds an owner it may not remove. Either way exactly one owner remains, the one projects.owner_id names.
 */
export async function transferProject(
  db: Database,
  caller: Caller,
  projectId: string,
  newOwnerId: string,
): Promise<ProjectView> {
  return db.transaction(async (tx) => {
    await tx.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId)).for('update');
    const { actor, project, standing } = await findProjectWithStanding(tx as unknown as Database, caller, projectId);
    if (!project || project.deletedAt !== null) throw notFound('project');
    requireAccess(project, standing, 'transferProject');
    if (newOwnerId === project.ownerId) throw conflict('already_owner', 'that user already owns the project');

    const [target] = await tx
      .select({ role: projectMembers.role, isActive: users.isActive })
      .from(projectMembers)
      .innerJoin(users, eq(users.id, projectMembers.userId))
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, newOwnerId)))
      .for('update', { of: projectMembers });
    if (!target) throw conflict('owner_not_member', 'the new owner must be a member of the project');
    if (!target.isActive) throw conflict('owner_not_member', 'the new owner is deactivated');

    // The previous owner steps down first: at most one owner row per project, checked row by row.
    await tx
      .update(projectMembers)
      .set({ role: 'manager' })
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.role, 'owner')));
    await tx
      .update(projectMembers)
      .set({ role: 'owner' })
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, newOwnerId)));
    const [updated] = await tx
      .update(projects)
      .set({ ownerId: newOwnerId, version: sql`${projects.version} + 1`, updatedAt: sql`now()` })
      .where(eq(projects.id, projectId))
      .returning();
    await auditInsertPerCall(tx as unknown as Database, caller, {
      action: 'project.transfer',
      entityType: 'project',
      entityId: projectId,
      projectId,
      changes: { owner_id: { old: project.ownerId, new: newOwnerId } },
    });
    const myRole =
      actor.id === project.ownerId ? 'manager' : actor.id === newOwnerId ? 'owner' : (standing.role ?? 'admin');
    return { ...updated!, myRole };
  });
}
