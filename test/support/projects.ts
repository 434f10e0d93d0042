import type { ProjectRole } from '../../src/db/schema.ts';
import { sql } from './db.ts';
import { call } from './http.ts';
import type { TestUser } from './users.ts';

/** A project created through the API by `owner`, with `members` added directly in the database (fixtures only). */
export async function createProjectWithMembers(
  owner: TestUser,
  members: [TestUser, Exclude<ProjectRole, 'owner'>][] = [],
  name = 'Team project',
) {
  const res = await call('POST', '/projects', { token: owner.token, json: { name } });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  for (const [user, role] of members) {
    await sql()`insert into project_members (project_id, user_id, role, project_created_at, added_by)
                values (${res.body.id}, ${user.id}, ${role}, ${res.body.created_at}, ${owner.id})`;
  }
  return res.body as { id: string; version: number; created_at: string; owner_id: string };
}

/** What a refused request must leave untouched: the project row and its memberships. */
export async function projectState(projectId: string) {
  const [project] =
    await sql()`select owner_id, name, description, version, is_active, deleted_at from projects where id = ${projectId}`;
  const members =
    await sql()`select user_id, role from project_members where project_id = ${projectId} order by user_id`;
  const invitations =
    await sql()`select email, role, withdrawn_at, accepted_at from invitations where project_id = ${projectId} order by email`;
  return { project, members, invitations };
}
