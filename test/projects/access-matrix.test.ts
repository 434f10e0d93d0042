import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { createProjectWithMembers, projectState } from '../support/projects.ts';
import { createUser, type TestUser } from '../support/users.ts';

/**
 * The whole access matrix through HTTP: every project and member route, for every kind of caller. Each
 * cell runs on a fresh project (owner, a viewer, an editor, a manager, a member to act on, and a
 * deactivated member); a refused request must leave the project and its memberships exactly as they were.
 */
const CALLERS = ['anonymous', 'non-member', 'viewer', 'editor', 'manager', 'owner', 'admin', 'deactivated member'] as const;
type Caller = (typeof CALLERS)[number];

interface Team {
  owner: TestUser;
  viewer: TestUser;
  editor: TestUser;
  manager: TestUser;
  subject: TestUser;
  deactivated: TestUser;
  stranger: TestUser;
  admin: TestUser;
  newcomer: TestUser;
}

interface Route {
  name: string;
  /** A deleted project for the route to act on (restore). */
  deleted?: boolean;
  request: (projectId: string, team: Team) => { method: string; path: string; json?: unknown };
  /** The status each caller gets. */
  expect: Record<Caller, number>;
}

const everyone = (member: number, others: Partial<Record<Caller, number>> = {}): Record<Caller, number> => ({
  anonymous: 401,
  'non-member': 404,
  viewer: member,
  editor: member,
  manager: member,
  owner: member,
  admin: member,
  'deactivated member': 403,
  ...others,
});
const managers = (ok: number) => everyone(ok, { viewer: 403, editor: 403 });
const ownerOnly = (ok: number) => everyone(ok, { viewer: 403, editor: 403, manager: 403 });

const ROUTES: Route[] = [
  { name: 'GET /projects/{id}', request: (id) => ({ method: 'GET', path: `/projects/${id}` }), expect: everyone(200) },
  { name: 'PATCH /projects/{id}', request: (id) => ({ method: 'PATCH', path: `/projects/${id}`, json: { name: 'Renamed' } }), expect: managers(200) },
  { name: 'PUT /projects/{id}', request: (id) => ({ method: 'PUT', path: `/projects/${id}`, json: { description: 'New' } }), expect: managers(200) },
  { name: 'DELETE /projects/{id}', request: (id) => ({ method: 'DELETE', path: `/projects/${id}` }), expect: ownerOnly(200) },
  {
    name: 'POST /projects/{id}/restore',
    deleted: true,
    request: (id) => ({ method: 'POST', path: `/projects/${id}/restore` }),
    expect: ownerOnly(200),
  },
  { name: 'GET /projects/{id}/members', request: (id) => ({ method: 'GET', path: `/projects/${id}/members` }), expect: everyone(200) },
  {
    name: 'POST /projects/{id}/members',
    request: (id, team) => ({ method: 'POST', path: `/projects/${id}/members`, json: { email: team.newcomer.email, role: 'viewer' } }),
    expect: managers(201),
  },
  {
    name: 'PATCH /projects/{id}/members/{user_id}',
    request: (id, team) => ({ method: 'PATCH', path: `/projects/${id}/members/${team.subject.id}`, json: { role: 'editor' } }),
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
  team = { owner, viewer, editor, manager, subject, deactivated, stranger, admin, newcomer };
  await sql()`update users set is_active = false where id = ${deactivated.id}`;
});

const tokenOf = (caller: Caller): string | undefined =>
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

async function teamProject(deleted: boolean) {
  const project = await createProjectWithMembers(team.owner, [
    [team.viewer, 'viewer'],
    [team.editor, 'editor'],
    [team.manager, 'manager'],
    [team.subject, 'viewer'],
    [team.deactivated, 'editor'],
  ]);
  if (deleted) await call('DELETE', `/projects/${project.id}`, { token: team.owner.token });
  return project;
}

describe('the project access matrix', () => {
  for (const route of ROUTES) {
    describe(route.name, () => {
      for (const caller of CALLERS) {
        const status = route.expect[caller];
        it(`${caller} -> ${status}`, async () => {
          const project = await teamProject(route.deleted ?? false);
          const before = await projectState(project.id);
          const { method, path, json } = route.request(project.id, team);
          const res = await call(method, path, { token: tokenOf(caller), json });
          if (status >= 400) {
            expectProblem(res, status);
            expect(await projectState(project.id)).toEqual(before);
          } else {
            expect(res.status, res.text).toBe(status);
          }
        });
      }
    });
  }
});

describe('my_role and the list follow the matrix', () => {
  it('every member sees the project in GET /projects with their role; an admin sees admin; a non-member does not', async () => {
    const project = await teamProject(false);
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
    const project = await teamProject(false);
    expect((await call('PATCH', `/projects/${project.id}`, { token: team.manager.token, json: { name: 'By manager' } })).body.my_role).toBe('manager');
    expect((await call('PATCH', `/projects/${project.id}`, { token: team.admin.token, json: { name: 'By admin' } })).body.my_role).toBe('admin');
    expect((await call('POST', '/projects', { token: team.viewer.token, json: { name: 'Mine' } })).body.my_role).toBe('owner');
  });
});
