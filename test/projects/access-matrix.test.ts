import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.ts';
import {
  CALLERS,
  createTeam,
  everyone,
  expectCell,
  managers,
  ownerOnly,
  teamProject,
  type Caller,
  type Team,
} from '../support/matrix.ts';
import { projectState } from '../support/projects.ts';
import type { TestUser } from '../support/users.ts';

/**
 * The whole access matrix through HTTP: every project and member route, for every kind of caller. Each
 * cell runs on a fresh project (owner, a viewer, an editor, a manager, a member to act on, and a
 * deactivated member); a refused request must leave the project and its memberships exactly as they were.
 */
interface Route {
  name: string;
  /** A deleted project for the route to act on (restore). */
  deleted?: boolean;
  request: (projectId: string, team: Team) => { method: string; path: string; json?: unknown };
  /** The status each caller gets. */
  expect: Record<Caller, number>;
}

const ROUTES: Route[] = [
  { name: 'GET /projects/{id}', request: (id) => ({ method: 'GET', path: `/projects/${id}` }), expect: everyone(200) },
  {
    name: 'PATCH /projects/{id}',
    request: (id) => ({ method: 'PATCH', path: `/projects/${id}`, json: { name: 'Renamed' } }),
    expect: managers(200),
  },
  {
    name: 'PUT /projects/{id}',
    request: (id) => ({ method: 'PUT', path: `/projects/${id}`, json: { description: 'New' } }),
    expect: managers(200),
  },
  {
    name: 'DELETE /projects/{id}',
    request: (id) => ({ method: 'DELETE', path: `/projects/${id}` }),
    expect: ownerOnly(200),
  },
  {
    name: 'POST /projects/{id}/restore',
    deleted: true,
    request: (id) => ({ method: 'POST', path: `/projects/${id}/restore` }),
    expect: ownerOnly(200),
  },
  {
    name: 'GET /projects/{id}/members',
    request: (id) => ({ method: 'GET', path: `/projects/${id}/members` }),
    expect: everyone(200),
  },
  {
    name: 'POST /projects/{id}/members',
    request: (id, team) => ({
      method: 'POST',
      path: `/projects/${id}/members`,
      json: { email: team.newcomer.email, role: 'viewer' },
    }),
    expect: managers(201),
  },
  {
    name: 'PATCH /projects/{id}/members/{user_id}',
    request: (id, team) => ({
      method: 'PATCH',
      path: `/projects/${id}/members/${team.subject.id}`,
      json: { role: 'editor' },
    }),
    expect: managers(200),
  },
  {
    name: 'DELETE /projects/{id}/members/{user_id}',
    request: (id, team) => ({ method: 'DELETE', path: `/projects/${id}/members/${team.subject.id}` }),
    expect: managers(204),
  },
  {
    name: 'POST /projects/{id}/transfer',
    request: (id, team) => ({ method: 'POST', path: `/projects/${id}/transfer`, json: { user_id: team.subject.id } }),
    expect: ownerOnly(200),
  },
];

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
  for (const route of ROUTES) {
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
