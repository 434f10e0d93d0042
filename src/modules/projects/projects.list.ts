import { and, asc, desc, eq, getTableColumns, ilike, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import {
  afterCursor,
  cappedCount,
  pageValues,
  pageWindow,
  regroup,
  sortKeyText,
  type PageValues,
} from '../../db/pagination.ts';
import { projectMembers, projects, users, type ProjectRole, type ProjectRow } from '../../db/schema.ts';
import { FLAG, slots, statementFamily, type ShapeOf, type Slots } from '../../db/statements.ts';
import { actorColumns, callerIsAdmin, callerValues, isCaller, keyReaches, type CallerValues } from '../../db/users.ts';
import { isAdmin, type Caller } from '../../lib/actor.ts';
import { toPage, type ListOrder, type Page, type PageRequest } from '../../lib/pagination.ts';
import { forbidden } from '../../lib/problem.ts';
import { containsPattern } from '../../lib/sql.ts';
import { PROJECT_SORTS, type ProjectSort } from './projects.schemas.ts';
import type { ProjectView } from './projects.service.ts';
import { callerFrom, callerMembership, joinCallerMembership } from './standing.ts';
import { cappedRoleSql } from './access.ts';

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

export async function listProjects(
  db: Database,
  caller: Caller,
  filters: ProjectListFilters,
): Promise<Page<ProjectView>> {
  const values: ListValues = {
    ...callerValues(caller),
    pattern: filters.q === undefined ? undefined : containsPattern(filters.q),
    role: filters.role,
    ownerId: filters.ownerId,
    ...pageValues(filters.page),
  };
  const shape: ListShape = {
    sort: filters.sort,
    q: filters.q !== undefined,
    role: filters.role !== undefined,
    after: filters.page.after !== undefined,
  };
  const adminView = filters.ownerId !== undefined || filters.includeDeleted !== undefined;
  if (!adminView) {
    const rows = await OWN_PROJECTS.on(db, shape).execute(values);
    const actor = callerFrom(caller, rows[0]?.actor);
    if (!isAdmin(actor) || filters.role !== undefined) return pageOf(rows, filters, () => null);
  }
  const allShape = { ...shape, owner: filters.ownerId !== undefined, deleted: filters.includeDeleted === true };
  const rows = await ALL_PROJECTS.on(db, allShape).execute(values);
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

/** What both lists' statements differ by: the sort, and which of the shared filters are given. */
const LIST_SHAPE = { sort: PROJECT_SORTS, q: FLAG, role: FLAG, after: FLAG } as const;
type ListShape = ShapeOf<typeof LIST_SHAPE>;
type ListValues = CallerValues &
  PageValues & { pattern: string | undefined; role: ProjectRole | undefined; ownerId: string | undefined };

/** The filters both statements share, on `projects` and the membership role `role`. */
function commonConditions(shape: ListShape, $: Slots<ListValues>, role: SQLWrapper): (SQL | undefined)[] {
  return [shape.q ? ilike(projects.name, $.pattern) : undefined, shape.role ? eq(role, $.role) : undefined];
}

const keyset = (shape: ListShape, sort: ReturnType<typeof sortColumns>) =>
  shape.after ? afterCursor(sort.direction, sort.column, sort.id) : undefined;

/** The caller's own projects: those they own or are a member of, through their membership rows. */
const OWN_PROJECTS = statementFamily('own_projects', LIST_SHAPE, slots<ListValues>(), (db, shape, $) => {
  const sort = sortColumns(shape.sort, true);
  const order = sort.direction === 'desc' ? desc : asc;
  // The role as the caller may use it here (an API key's cap), and only the projects their key reaches.
  const role = cappedRoleSql(projectMembers.role, $.maxRole);
  const matching = (caller: SQLWrapper) =>
    and(
      eq(projectMembers.userId, caller),
      eq(projects.isActive, true),
      keyReaches(projectMembers.projectId),
      ...commonConditions(shape, $, role),
    );
  const page = pageWindow(
    db
      .select({
        ...projectColumns,
        membershipRole: sql<ProjectRole>`${role}`.as('membership_role'),
        sortKey: sortKeyText(sort.column).as('sort_key'),
      })
      .from(projectMembers)
      .innerJoin(projects, eq(projects.id, projectMembers.projectId))
      .where(and(matching(users.id), keyset(shape, sort)))
      .orderBy(order(sort.column), order(sort.id))
      .$dynamic(),
  ).as('page');
  const count = cappedCount(
    db
      .select({ one: sql`1` })
      .from(projectMembers)
      .innerJoin(projects, eq(projects.id, projectMembers.projectId))
      .where(matching($.callerId))
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
    .where(isCaller($));
});

/** Every project (admins), optionally of one owner and with deleted ones, with the admin's own role where they have one. */
const ALL_PROJECTS = statementFamily(
  'all_projects',
  { ...LIST_SHAPE, owner: FLAG, deleted: FLAG },
  slots<ListValues>(),
  (db, shape, $) => {
    const sort = sortColumns(shape.sort, false);
    const order = sort.direction === 'desc' ? desc : asc;
    const matching = and(
      shape.owner ? eq(projects.ownerId, $.ownerId) : undefined,
      shape.deleted ? undefined : eq(projects.isActive, true),
      ...commonConditions(shape, $, callerMembership.role),
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
        .where(and(matching, keyset(shape, sort)))
        .orderBy(order(sort.column), order(sort.id))
        .$dynamic(),
    ).as('page');
    const counted = db.select({ one: sql`1` }).from(projects);
    const count = cappedCount(
      (shape.role
        ? counted.innerJoin(
            callerMembership,
            and(eq(callerMembership.projectId, projects.id), eq(callerMembership.userId, $.callerId)),
          )
        : counted
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
      .leftJoinLateral(page, callerIsAdmin)
      .where(isCaller($));
  },
);
