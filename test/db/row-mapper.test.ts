import { eq, getTableColumns, sql as raw } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { alias } from 'drizzle-orm/pg-core';
import * as drizzleUtils from 'drizzle-orm/utils';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SelectedField } from '../../src/db/internals.ts';
import { compileRowMapper } from '../../src/db/row-mapper.ts';
import { projects, tasks, users, workflowStates } from '../../src/db/schema.ts';
import { sql } from '../support/db.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask } from '../support/tasks.ts';
import { createUser, type TestUser } from '../support/users.ts';

/**
 * The compiled row mapper (src/db/row-mapper.ts) must give exactly what drizzle's own mapResultRow gives,
 * for the shapes the services select: nested objects, left joins that find nothing (the object becomes
 * null) or find a row with null columns (the object stays), and SQL fields with their own decoders.
 */
/** drizzle's own mapper: exported by drizzle-orm/utils at runtime, absent from its type definitions. */
const { mapResultRow } = drizzleUtils as unknown as {
  mapResultRow(fields: unknown, row: unknown[], joins: unknown): Record<string, unknown>;
};

type Internals = { fields: SelectedField[]; joinsNotNullableMap?: Record<string, boolean> };

describe('compiled row mapper', () => {
  let owner: TestUser;
  let projectId: string;
  beforeAll(async () => {
    owner = await createUser({ label: 'mapper' });
    projectId = (await createProjectWithMembers(owner)).id;
    await createTask(owner, projectId, { description: null });
    await createTask(owner, projectId, { assignee_id: owner.id, due_date: '2026-12-01' });
  });

  async function bothMappings(query: { prepare(name: string): unknown }) {
    const statement = query.prepare('mapper_test') as unknown as Internals;
    const { sql: text, params } = (query as unknown as { toSQL(): { sql: string; params: unknown[] } }).toSQL();
    const rows = (await sql()
      .unsafe(text, params as never[])
      .values()) as unknown as unknown[][];
    expect(rows.length).toBeGreaterThan(0);
    const ours = compileRowMapper(statement.fields, statement.joinsNotNullableMap)(rows);
    const drizzles = rows.map((row) => mapResultRow(statement.fields, row, statement.joinsNotNullableMap));
    return { ours, drizzles };
  }

  it('maps left joins (found, not found, found with nulls), nested objects and decoded SQL fields as drizzle does', async () => {
    const db = drizzle(sql());
    const assignee = alias(users, 'assignee');
    const query = db
      .select({
        task: getTableColumns(tasks),
        state: { id: workflowStates.id, name: workflowStates.name },
        assignee: { id: assignee.id, fullName: assignee.fullName },
        project: { id: projects.id, deletedAt: projects.deletedAt },
        createdAtText: raw<string>`${tasks.createdAt}::text`,
        updatedAt: raw<Date>`${tasks.updatedAt}`.mapWith(tasks.updatedAt),
      })
      .from(tasks)
      .innerJoin(workflowStates, eq(workflowStates.id, tasks.stateId))
      .leftJoin(assignee, eq(assignee.id, tasks.assigneeId))
      .leftJoin(projects, eq(projects.id, tasks.projectId))
      .where(eq(tasks.projectId, projectId));
    const { ours, drizzles } = await bothMappings(query);
    expect(ours).toEqual(drizzles);
    // The cases are really there: one task without an assignee (null object), one with (a full name of null).
    expect(ours.some((row) => row.assignee === null)).toBe(true);
    expect(ours.some((row) => (row.assignee as { fullName: unknown } | null)?.fullName === null)).toBe(true);
    expect((ours[0]!.task as { createdAt: unknown }).createdAt).toBeInstanceOf(Date);
    expect(ours[0]!.updatedAt).toBeInstanceOf(Date);
  });

  it('maps an aggregate beside a left join that found nothing', async () => {
    const db = drizzle(sql());
    const query = db
      .select({
        user: { id: users.id, email: users.email },
        project: { id: projects.id, name: projects.name },
        projects: raw<number>`count(${projects.id})`.mapWith(Number),
      })
      .from(users)
      .leftJoin(projects, raw`false`)
      .where(eq(users.id, owner.id))
      .groupBy(users.id, projects.id);
    const { ours, drizzles } = await bothMappings(query);
    expect(ours).toEqual(drizzles);
    expect(ours[0]).toEqual({ user: { id: owner.id, email: owner.email }, project: null, projects: 0 });
  });
});
