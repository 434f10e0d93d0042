import { and, asc, count, desc, eq, getTableColumns, ilike, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { PgSelect, PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/client.ts';
import { projects, type ProjectRow, type UserRow } from '../../db/schema.ts';
import { etagFor, preconditionHolds, type Precondition } from '../../lib/etag.ts';
import { toPage, type Page } from '../../lib/pagination.ts';
import { AppError, conflict, forbidden, notFound } from '../../lib/problem.ts';
import { containsPattern } from '../../lib/sql.ts';
import { countLiteral, TRUE, uuidLiteral } from '../../db/literals.ts';
import type { PROJECT_SORTS } from './projects.schemas.ts';

/** Owners act on their own projects; admins on everyone's. This is the one ownership rule. */
const isAdmin = (actor: UserRow) => actor.role === 'admin';
const canAccess = (actor: UserRow, project: ProjectRow) => isAdmin(actor) || project.ownerId === actor.id;
const accessCondition = (actor: UserRow) => (isAdmin(actor) ? undefined : eq(projects.ownerId, uuidLiteral(actor.id)));

export async function createProject(
  db: Database,
  owner: UserRow,
  input: { name: string; description?: string | null },
): Promise<ProjectRow> {
  const [project] = await db
    .insert(projects)
    .values({ ownerId: owner.id, name: input.name, description: input.description ?? null })
    .returning();
  return project!;
}

export interface ProjectFilters {
  q?: string;
  sort: (typeof PROJECT_SORTS)[number];
  ownerId?: string;
  includeDeleted?: boolean;
  limit: number;
  offset: number;
}

const SORT_COLUMNS = { created_at: projects.createdAt, updated_at: projects.updatedAt, name: projects.name };

export async function listProjects(db: Database, actor: UserRow, filters: ProjectFilters): Promise<Page<ProjectRow>> {
  if (!isAdmin(actor) && (filters.ownerId !== undefined || filters.includeDeleted !== undefined)) {
    throw forbidden('only admins may filter by owner_id or include deleted projects');
  }
  const conditions: (SQL | undefined)[] = [accessCondition(actor)];
  if (filters.ownerId) conditions.push(eq(projects.ownerId, filters.ownerId));
  if (!filters.includeDeleted) conditions.push(eq(projects.isActive, TRUE));
  if (filters.q) conditions.push(ilike(projects.name, containsPattern(filters.q)));
  const where = and(...conditions);

  const descending = filters.sort.startsWith('-');
  const column = SORT_COLUMNS[filters.sort.replace('-', '') as keyof typeof SORT_COLUMNS];
  const direction = descending ? desc : asc;

  const page = <T extends PgSelect>(query: T) =>
    query
      .where(where)
      .orderBy(direction(column), direction(projects.id))
      // Literals keep the common listing (no `q`) free of bind parameters: one round trip, not two.
      .limit(countLiteral(filters.limit))
      .offset(countLiteral(filters.offset));
  const countAll = async () => (await db.select({ total: count() }).from(projects).where(where))[0]!.total;

  // One owner's projects are few, so a window count returns the total with the page in one statement.
  // Across all owners (an admin's unfiltered view) it would read the whole table for every page, so
  // there the total is its own count, sent together with the page.
  if (isAdmin(actor) && !filters.ownerId) {
    const [items, total] = await Promise.all([page(db.select().from(projects).$dynamic()), countAll()]);
    return { items, total };
  }
  const rows = await page(
    db
      .select({ ...getTableColumns(projects), total: sql<number>`count(*) over ()`.mapWith(Number) })
      .from(projects)
      .$dynamic(),
  );
  return toPage(rows, filters.offset, countAll);
}

/** One project by id, deleted or not; the id is a literal (no LIMIT: it is the key), so one round trip. */
async function findProject(db: Database, id: string): Promise<ProjectRow | undefined> {
  const [project] = await db.select().from(projects).where(eq(projects.id, uuidLiteral(id)));
  return project;
}

export async function getProject(db: Database, actor: UserRow, id: string): Promise<ProjectRow> {
  const project = await findProject(db, id);
  // A soft-deleted project is gone for everyone but admins.
  if (!project || (project.deletedAt !== null && !isAdmin(actor))) throw notFound('project');
  if (!canAccess(actor, project)) throw forbidden('this project belongs to another user');
  return project;
}

type ProjectState = 'active' | 'deleted';

/**
 * Every change is one conditional UPDATE (state, ownership and If-Match in the WHERE clause), so the
 * happy path is a single statement and no concurrent writer can slip in between check and write.
 * Only when nothing matched does a second query find out why.
 */
async function mutateProject(
  db: Database,
  actor: UserRow,
  id: string,
  expectedState: ProjectState,
  changes: PgUpdateSetSource<typeof projects>,
  precondition: Precondition | undefined,
): Promise<ProjectRow> {
  const versionCondition =
    precondition?.kind === 'versions' ? inArray(projects.version, precondition.versions.length ? precondition.versions : [-1]) : undefined;
  const [updated] = await db
    .update(projects)
    .set({ ...changes, version: sql`${projects.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(projects.id, id),
        expectedState === 'active' ? isNull(projects.deletedAt) : isNotNull(projects.deletedAt),
        accessCondition(actor),
        versionCondition,
      ),
    )
    .returning();
  if (updated) return updated;
  throw await explainRejectedWrite(db, actor, id, expectedState, precondition);
}

async function explainRejectedWrite(
  db: Database,
  actor: UserRow,
  id: string,
  expectedState: ProjectState,
  precondition: Precondition | undefined,
): Promise<AppError> {
  const current = await findProject(db, id);
  if (!current) return notFound('project');
  const isDeleted = current.deletedAt !== null;
  if (expectedState === 'active' && isDeleted) return notFound('project');
  if (!canAccess(actor, current)) return forbidden('this project belongs to another user');
  if (expectedState === 'deleted' && !isDeleted) return conflict('the project is not deleted');
  if (!preconditionHolds(precondition, current.version)) {
    return new AppError(412, 'If-Match does not match the current version of the project', {
      headers: { ETag: etagFor(current.version) },
    });
  }
  return conflict('the project changed while the request was processed; retry');
}

export const updateProject = (
  db: Database,
  actor: UserRow,
  id: string,
  changes: { name?: string; description?: string | null },
  precondition?: Precondition,
) => mutateProject(db, actor, id, 'active', changes, precondition);

export const softDeleteProject = (db: Database, actor: UserRow, id: string, precondition?: Precondition) =>
  mutateProject(db, actor, id, 'active', { isActive: false, deletedAt: sql`now()` }, precondition);

export const restoreProject = (db: Database, actor: UserRow, id: string, precondition?: Precondition) =>
  mutateProject(db, actor, id, 'deleted', { isActive: true, deletedAt: null }, precondition);
