import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.ts';
import { CALLERS, createTeam, expectCell, teamProject, type Team } from '../support/matrix.ts';
import { projectState } from '../support/projects.ts';
import { PROJECT_ROUTES } from '../support/access-routes.ts';
import type { TestUser } from '../support/users.ts';

/**
 * The whole access matrix through HTTP: every project and member route, for every kind of caller. Each
 * cell runs on a fresh project (owner, a viewer, an editor, a manager, a member to act on, and a
 * deactivated member); a refused request must leave the project and its memberships exactly as they were.
 */

let team: Team;

beforeAll(async () => {
  team = await createTeam();
});

async function matrixProject(deleted: boolean) {
  const project = await teamProject(team);
  if (deleted) await call('DELETE', `/projects/${project.id}`, { token: team.owner.token });
  return project;
}

describe('the project access matrix', () => {
  for (const route of PROJECT_ROUTES) {
    describe(route.name, () => {
      for (const caller of CALLERS) {
        const status = route.expect[caller];
        it(`${caller} -> ${status}`, async () => {
          const project = await matrixProject(route.deleted ?? false);
          await expectCell(team, caller, status, route.request(project.id, team), () => projectState(project.id));
        });
      }
    });
  }
});

describe('my_role and the list follow the matrix', () => {
  it('every member sees the project in GET /projects with their role; an admin sees admin; a non-member does not', async () => {
    const project = await matrixProject(false);
    const roles: [TestUser, string][] = [
      [team.owner, 'owner'],
      [team.manager, 'manager'],
      [team.editor, 'editor'],
      [team.viewer, 'viewer'],
    ];
    for (const [user, role] of roles) {
      const one = await call('GET', `/projects/${project.id}`, { token: user.token });
      expect(one.body.my_role).toBe(role);
      const listed = await call('GET', `/projects?role=${role}&limit=100`, { token: user.token });
      expect(listed.body.map((p: { id: string }) => p.id)).toContain(project.id);
      expect(listed.body.every((p: { my_role: string }) => p.my_role === role)).toBe(true);
      const otherRole = role === 'viewer' ? 'editor' : 'viewer';
      const filteredOut = await call('GET', `/projects?role=${otherRole}&limit=100`, { token: user.token });
      expect(filteredOut.body.map((p: { id: string }) => p.id)).not.toContain(project.id);
    }
    expect((await call('GET', `/projects/${project.id}`, { token: team.admin.token })).body.my_role).toBe('admin');
    const adminList = await call('GET', `/projects?owner_id=${team.owner.id}&limit=100`, { token: team.admin.token });
    expect(adminList.body.find((p: { id: string }) => p.id === project.id).my_role).toBe('admin');
    const strangerList = await call('GET', '/projects?limit=100', { token: team.stranger.token });
    expect(strangerList.body.map((p: { id: string }) => p.id)).not.toContain(project.id);
  });

  it('a write answers with the caller’s role too', async () => {
    const project = await matrixProject(false);
    expect(
      (await call('PATCH', `/projects/${project.id}`, { token: team.manager.token, json: { name: 'By manager' } })).body
        .my_role,
    ).toBe('manager');
    expect(
      (await call('PATCH', `/projects/${project.id}`, { token: team.admin.token, json: { name: 'By admin' } })).body
        .my_role,
    ).toBe('admin');
    expect((await call('POST', '/projects', { token: team.viewer.token, json: { name: 'Mine' } })).body.my_role).toBe(
      'owner',
    );
  });
});
