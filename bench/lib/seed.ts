import { createHash, randomBytes } from 'node:crypto';
import type postgresType from 'postgres';

type Sql = postgresType.Sql;

/*
 * Seed data made in the database itself (generate_series), so 100,000 rows take seconds, not minutes.
 * Every seeded user shares one precomputed password hash; only the accounts the scenarios log in with
 * need a known password. Projects get their owner's membership row, as the API's create does.
 */

/** `count` users numbered after `after` (a second call adds to the first). */
export async function seedUsers(sql: Sql, count: number, passwordHash: string, after = 0): Promise<void> {
  await sql`
    insert into users (email, password_hash, full_name, created_at, updated_at)
    select 'seed-' || g || '@bench.example', ${passwordHash}, 'Seed User ' || g,
           now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval
    from generate_series(${after + 1}::int, ${after + count}::int) as g`;
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

/**
 * `count` tasks in a project the API created (so it has its default workflow), all in its first unstarted
 * state, numbered 1..count with their created position keys, and the project's counter moved past them.
 */
export async function seedTasks(
  sql: Sql,
  projectId: string,
  count: number,
  options: { createdBy: string; assigneeId?: string },
): Promise<string[]> {
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

/**
 * `count` sessions of `userId`, each with one current refresh token, as a login would leave them; returns
 * the tokens. The refresh scenario presents each once: a token presented twice is reuse, which revokes
 * its session, so every request needs one no request has used.
 */
export async function seedRefreshTokens(sql: Sql, userId: string, count: number): Promise<string[]> {
  const tokens = Array.from({ length: count }, () => randomBytes(32).toString('base64url'));
  const hashes = tokens.map((token) => createHash('sha256').update(token).digest('hex'));
  await sql`
    with input as (select gen_random_uuid() as session_id, token_hash from unnest(${hashes}::text[]) as token_hash),
    created as (
      insert into sessions (id, user_id, expires_at, user_agent, ip)
      select session_id, ${userId}, now() + interval '30 days', 'aegisflow-bench', '127.0.0.1' from input
    )
    insert into refresh_tokens (token_hash, session_id, expires_at)
    select token_hash, session_id, now() + interval '30 days' from input`;
  return tokens;
}
