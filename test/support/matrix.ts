import { call, expectProblem } from './http.ts';
import { createProjectWithMembers } from './projects.ts';
import { sql } from './db.ts';
import { createUser } from './users.ts';
import { createTask, statesOf } from './tasks.ts';
import type { TaskFixture } from './access-routes.ts';
import { expect } from 'vitest';

export * from './access-expectations.ts';
import type { Caller, Team } from './access-expectations.ts';

export async function createTeam(): Promise<Team> {
  const [owner, viewer, editor, manager, subject, deactivated, stranger, admin, newcomer] = await Promise.all([
    createUser({ label: 'owner' }),
    createUser({ label: 'viewer' }),
    createUser({ label: 'editor' }),
    createUser({ label: 'manager' }),
    createUser({ label: 'subject' }),
    createUser({ label: 'deactivated' }),
    createUser({ label: 'stranger' }),
    createUser({ role: 'admin' }),
    createUser({ label: 'newcomer' }),
  ]);
  await sql()`update users set is_active = false where id = ${deactivated.id}`;
  return { owner, viewer, editor, manager, subject, deactivated, stranger, admin, newcomer };
}

export const tokenOf = (team: Team, caller: Caller): string | undefined =>
  ({
    anonymous: undefined,
    'non-member': team.stranger.token,
    viewer: team.viewer.token,
    editor: team.editor.token,
    manager: team.manager.token,
    owner: team.owner.token,
    admin: team.admin.token,
    'deactivated member': team.deactivated.token,
  })[caller];

/**
 * A fresh project whose members are the team, with one pending invitation for the invitation routes to act
 * on: its id is the project's own (`pendingInvitationId`), so a route's request can name it.
 */
export async function teamProject(team: Team) {
  const project = await createProjectWithMembers(team.owner, [
    [team.viewer, 'viewer'],
    [team.editor, 'editor'],
    [team.manager, 'manager'],
    [team.subject, 'viewer'],
    [team.deactivated, 'editor'],
  ]);
  await sql()`insert into invitations (id, project_id, email, role, invited_by, token_hash, expires_at)
              values (${project.id}, ${project.id}, ${`pending-${project.id}@example.com`}, 'viewer', ${team.owner.id},
                      ${project.id}, now() + interval '1 day')`;
  return project;
}

/** Sends the request as `caller`; a refusal must be the expected problem and leave `state()` as it was. */
export async function expectCell(
  team: Team,
  caller: Caller,
  status: number,
  request: { method: string; path: string; json?: unknown },
  state: () => Promise<unknown>,
) {
  const before = await state();
  const res = await call(request.method, request.path, { token: tokenOf(team, caller), json: request.json });
  if (status >= 400) {
    expectProblem(res, status);
    expect(await state()).toEqual(before);
  } else {
    expect(res.status, res.text).toBe(status);
  }
}

/** A fresh team project with a task and a deleted task, for the task and workflow routes to act on. */
export async function taskFixture(team: Team): Promise<TaskFixture> {
  const project = await teamProject(team);
  const task = await createTask(team.owner, project.id);
  const deleted = await createTask(team.owner, project.id);
  await call('DELETE', `/tasks/${deleted.id}`, { token: team.owner.token });
  return {
    projectId: project.id,
    taskId: task.id,
    deletedTaskId: deleted.id,
    states: await statesOf(team.owner, project.id),
  };
}
