import { and, asc, desc, eq, getTableColumns, ilike, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { prepared, type Database } from '../../db/client.ts';
import { afterCursor, cappedCount, pageValues, pageWindow, regroup, sortKeyText } from '../../db/pagination.ts';
import { projectMembers, projects, users, type ProjectRole, type ProjectRow } from '../../db/schema.ts';
import { actorColumns, callerValues, isCaller } from '../../db/users.ts';
import { isAdmin, type Caller } from '../../lib/actor.ts';
import { toPage, type ListOrder, type Page, type PageRequest } from '../../lib/pagination.ts';
import { forbidden } from '../../lib/problem.ts';
import { containsPattern } from '../../lib/sql.ts';
import type { ProjectSort } from './projects.schemas.ts';
import type { ProjectView } from './projects.service.ts';
import { callerFrom, callerMembership, joinCallerMembership } from './standing.ts';

/*
 * GET /projects, in one statement: the caller's users row, left-joined LATERAL with the page, and a count
 * capped at COUNT_CAP (lib/pagination.ts). A user's list walks their project_members rows through the
 * (user_id, project_created_at, project_id) index, owner rows included, so the default order pages by a
 * seek however many projects stand behind the page (bench/README.md shows the plan). Admins without a
 * role filter see every project, a second statement once the first has shown they are an admin.
 */

export interface ProjectListFilters {
  q?: string;
  sort: ProjectSort;
  role?: ProjectRole;
  ownerId?: string;
  includeDeleted?: boolean;
  page: PageRequest;
}

const SORT_COLUMNS = { name: projects.name, updated_at: projects.updatedAt } as const;

/** The sort's column and tie-breaker: for created_at, the copies in project_members where that is the table walked. */
function sortColumns(
  sort: ProjectSort,
  throughMemberships: boolean,
): { column: SQLWrapper; id: SQLWrapper; direction: 'asc' | 'desc' } {
  const field = sort.replace('-', '') as 'created_at' | keyof typeof SORT_COLUMNS;
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  if (field === 'created_at') {
    return throughMemberships
      ? { column: projectMembers.projectCreatedAt, id: projectMembers.projectId, direction }
      : { column: projects.createdAt, id: projects.id, direction };
  }
  return { column: SORT_COLUMNS[field], id: projects.id, direction };
}

const projectColumns = getTableColumns(projects);

/** The order a sort names, for its cursors: name sorts carry text, the others timestamps. */
export const projectListOrder = (sort: ProjectSort): ListOrder => ({
  name: `projects:${sort}`,
  key: sort.endsWith('name') ? 'text' : 'timestamp',
});

/** Statement shapes differ by which optional filters are present; their values are placeholders. */
const present = (value: unknown, name: string) => (value === undefined ? '-' : name);

export async function listProjects(
  db: Database,
  caller: Caller,
  filters: ProjectListFilters,
): Promise<Page<ProjectView>> {
  const values = {
    ...callerValues(caller),
    pattern: filters.q === undefined ? undefined : containsPattern(filters.q),
    role: filters.role,
    ownerId: filters.ownerId,
    ...pageValues(filters.page),
  };
  const adminView = filters.ownerId !== undefined || filters.includeDeleted !== undefined;
  if (!adminView) {
    const rows = await ownProjectsStatement(db, filters).execute(values);
    const actor = callerFrom(caller, rows[0]?.actor);
    if (!isAdmin(actor) || filters.role !== undefined) return pageOf(rows, filters, () => null);
  }
  const rows = await allProjectsStatement(db, filters).execute(values);
  if (!isAdmin(callerFrom(caller, rows[0]?.actor)))
    throw forbidden('role_required', 'only admins may filter by owner_id or include deleted projects');
  return pageOf(rows, filters, () => 'admin');
}

type ListRow = {
  project: ProjectRow | null;
  membershipRole: ProjectRole | null;
  sortKey: string | null;
  total: number;
};

function pageOf(
  rows: ListRow[],
  filters: ProjectListFilters,
  roleWithoutMembership: () => 'admin' | null,
): Page<ProjectView> {
  // A page with no project still has its one row: the caller, and the count.
  const listed = rows.filter((row) => row.project !== null);
  return toPage(listed, filters.page, {
    count: rows[0]?.total ?? 0,
    item: (row) => ({ ...row.project!, myRole: (row.membershipRole ?? roleWithoutMembership())! }),
    key: (row) => [row.sortKey!, row.project!.id],
  });
}

/** The filters both statements share, on `projects` and the membership role `role`. */
function commonConditions(filters: ProjectListFilters, role: SQLWrapper): (SQL | undefined)[] {
  return [
    filters.q === undefined ? undefined : ilike(projects.name, sql.placeholder('pattern')),
    filters.role === undefined ? undefined : eq(role, sql.placeholder('role')),
  ];
}

const keyset = (filters: ProjectListFilters, sort: ReturnType<typeof sortColumns>) =>
  filters.page.after === undefined ? undefined : afterCursor(sort.direction, sort.column, sort.id);

/** The caller's own projects: those they own or are a member of, through their membership rows. */
function ownProjectsStatement(db: Database, filters: ProjectListFilters) {
  const name = `own_projects:${filters.sort}:${present(filters.q, 'q')}:${present(filters.role, 'role')}:${present(filters.page.after, 'after')}`;
  return prepared(db, name, () => {
    const sort = sortColumns(filters.sort, true);
    const order = sort.direction === 'desc' ? desc : asc;
    const matching = (caller: SQLWrapper) =>
      and(
        eq(projectMembers.userId, caller),
        eq(projects.isActive, true),
        ...commonConditions(filters, projectMembers.role),
      );
    const page = pageWindow(
      db
        .select({
          ...projectColumns,
          membershipRole: projectMembers.role,
          sortKey: sortKeyText(sort.column).as('sort_key'),
        })
        .from(projectMembers)
        .innerJoin(projects, eq(projects.id, projectMembers.projectId))
        .where(and(matching(users.id), keyset(filters, sort)))
        .orderBy(order(sort.column), order(sort.id))
        .$dynamic(),
    ).as('page');
    const count = cappedCount(
      db
        .select({ one: sql`1` })
        .from(projectMembers)
        .innerJoin(projects, eq(projects.id, projectMembers.projectId))
        .where(matching(sql.placeholder('callerId')))
        .$dynamic(),
    );
    return db
      .select({
        actor: actorColumns,
        project: regroup(projectColumns, page),
        membershipRole: page.membershipRole,
        sortKey: page.sortKey,
        total: count,
      })
      .from(users)
      .leftJoinLateral(page, sql`true`)
      .where(isCaller);
  });
}

/** Every project (admins), optionally of one owner and with deleted ones, with the admin's own role where they have one. */
function allProjectsStatement(db: Database, filters: ProjectListFilters) {
  const name = `all_projects:${filters.sort}:${present(filters.q, 'q')}:${present(filters.role, 'role')}:${present(filters.ownerId, 'owner')}:${filters.includeDeleted ? 'deleted' : 'active'}:${present(filters.page.after, 'after')}`;
  return prepared(db, name, () => {
    const sort = sortColumns(filters.sort, false);
    const order = sort.direction === 'desc' ? desc : asc;
    const matching = and(
      filters.ownerId === undefined ? undefined : eq(projects.ownerId, sql.placeholder('ownerId')),
      filters.includeDeleted ? undefined : eq(projects.isActive, true),
      ...commonConditions(filters, callerMembership.role),
    );
    const page = pageWindow(
      db
        .select({
          ...projectColumns,
          membershipRole: callerMembership.role,
          sortKey: sortKeyText(sort.column).as('sort_key'),
        })
        .from(projects)
        .leftJoin(callerMembership, joinCallerMembership())
        .where(and(matching, keyset(filters, sort)))
        .orderBy(order(sort.column), order(sort.id))
        .$dynamic(),
    ).as('page');
    const counted = db.select({ one: sql`1` }).from(projects);
    const count = cappedCount(
      (filters.role === undefined
        ? counted
        : counted.innerJoin(
            callerMembership,
            and(eq(callerMembership.projectId, projects.id), eq(callerMembership.userId, sql.placeholder('callerId'))),
          )
      )
        .where(matching)
        .$dynamic(),
    );
    return db
      .select({
        actor: actorColumns,
        project: regroup(projectColumns, page),
        membershipRole: page.membershipRole,
        sortKey: page.sortKey,
        total: count,
      })
      .from(users)
      .leftJoinLateral(page, sql`${users.role} = 'admin'`)
      .where(isCaller);
  });
}
