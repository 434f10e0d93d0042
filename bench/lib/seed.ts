import type postgresType from 'postgres';

type Sql = postgresType.Sql;

/**
 * Seed data made in the database itself (generate_series), so a million rows take seconds, not minutes.
 * Every seeded user shares one precomputed password hash; only the accounts the scenarios log in with
 * need a known password. Projects get their owner's membership row, as the API's create does.
 */
export async function seedUsers(sql: Sql, count: number, passwordHash: string): Promise<void> {
  await sql`
    insert into users (email, password_hash, full_name, created_at, updated_at)
    select 'seed-' || g || '@bench.example', ${passwordHash}, 'Seed User ' || g,
           now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval
    from generate_series(1, ${count}) as g`;
}

export async function seedProjects(sql: Sql, ownerId: string, count: number): Promise<string[]> {
  const rows = await sql`
    with created as (
      insert into projects (owner_id, name, description, created_at, updated_at)
      select ${ownerId}, 'Bench project ' || g, 'Seeded for the benchmark',
             now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval
      from generate_series(1, ${count}) as g
      returning id, owner_id, created_at
    ), owners as (
      insert into project_members (project_id, user_id, role, project_created_at, added_at, added_by)
      select id, owner_id, 'owner', created_at, created_at, owner_id from created
    )
    select id from created`;
  return rows.map((row) => row.id as string);
}

/** Spreads `count` projects evenly over the seeded users (not over the scenario accounts). */
export async function seedProjectsAcrossOwners(sql: Sql, count: number): Promise<void> {
  await sql`
    with owners as (select array_agg(id order by id) as ids from users where email like 'seed-%@bench.example'),
    created as (
      insert into projects (owner_id, name, created_at, updated_at)
      select owners.ids[1 + (g % array_length(owners.ids, 1))], 'Scale project ' || g,
             now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval
      from owners, generate_series(1, ${count}) as g
      returning id, owner_id, created_at
    )
    insert into project_members (project_id, user_id, role, project_created_at, added_at, added_by)
    select id, owner_id, 'owner', created_at, created_at, owner_id from created`;
  await sql`vacuum analyze projects`;
  await sql`vacuum analyze project_members`;
  await sql`vacuum analyze users`;
}

/**
 * `count` tasks in a project the API created (so it has its default workflow), all in its first unstarted
 * state, numbered 1..count with their created position keys, and the project's counter moved past them.
 */
export async function seedTasks(sql: Sql, projectId: string, count: number, options: { createdBy: string; assigneeId?: string }): Promise<string[]> {
  const rows = await sql`
    with start as (
      select id from workflow_states where project_id = ${projectId} and category = 'unstarted' order by position limit 1
    )
    insert into tasks (project_id, number, title, state_id, position, created_by, assignee_id, created_at, updated_at)
    select ${projectId}, g, 'Bench task ' || g, start.id, lpad(g::text, 12, '0'), ${options.createdBy}, ${options.assigneeId ?? null},
           now() - ((${count} - g) || ' seconds')::interval, now() - ((${count} - g) || ' seconds')::interval
    from start, generate_series(1, ${count}) as g
    returning id`;
  await sql`
    insert into project_task_counters (project_id, last_number) values (${projectId}, ${count})
    on conflict (project_id) do update set last_number = excluded.last_number`;
  return rows.map((row) => row.id as string);
}
