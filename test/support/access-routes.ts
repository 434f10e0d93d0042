import { editors, everyone, managers, ownerOnly, type Caller, type Team } from './access-expectations.ts';
import type { State } from './tasks.ts';

/*
 * The access matrices' routes: for every project-scoped route, a request and the status each kind of
 * caller gets. The matrix tests run them (test/projects, test/tasks); test/platform/required-roles.test.ts
 * holds each route's published `x-required-role` to them.
 */

export interface ProjectRoute {
  name: string;
  /** A deleted project for the route to act on (restore). */
  deleted?: boolean;
  request: (projectId: string, team: Team) => { method: string; path: string; json?: unknown };
  /** The status each caller gets. */
  expect: Record<Caller, number>;
}

export const PROJECT_ROUTES: ProjectRoute[] = [
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
    // Admins add at once; everyone else who may manage members invites (202).
    expect: { ...managers(202), admin: 201 },
  },
  {
    name: 'POST /projects/{id}/invitations',
    request: (id, team) => ({
      method: 'POST',
      path: `/projects/${id}/invitations`,
      json: { email: team.newcomer.email, role: 'editor' },
    }),
    expect: managers(202),
  },
  {
    name: 'GET /projects/{id}/invitations',
    request: (id) => ({ method: 'GET', path: `/projects/${id}/invitations` }),
    expect: managers(200),
  },
  {
    name: 'DELETE /projects/{id}/invitations/{invitation_id}',
    // teamProject's pending invitation has the project's id.
    request: (id) => ({ method: 'DELETE', path: `/projects/${id}/invitations/${id}` }),
    expect: managers(204),
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

export interface TaskFixture {
  projectId: string;
  taskId: string;
  deletedTaskId: string;
  states: Record<string, State>;
}

export interface TaskRoute {
  name: string;
  request: (fixture: TaskFixture, team: Team) => { method: string; path: string; json?: unknown };
  expect: Record<Caller, number>;
}

export const TASK_ROUTES: TaskRoute[] = [
  {
    name: 'GET /projects/{id}/states',
    request: (f) => ({ method: 'GET', path: `/projects/${f.projectId}/states` }),
    expect: everyone(200),
  },
  {
    name: 'POST /projects/{id}/states',
    request: (f) => ({
      method: 'POST',
      path: `/projects/${f.projectId}/states`,
      json: { name: 'QA', category: 'started' },
    }),
    expect: managers(201),
  },
  {
    name: 'PATCH /projects/{id}/states/{state_id}',
    request: (f) => ({
      method: 'PATCH',
      path: `/projects/${f.projectId}/states/${f.states['In review']!.id}`,
      json: { name: 'Review' },
    }),
    expect: managers(200),
  },
  {
    name: 'DELETE /projects/{id}/states/{state_id}',
    request: (f) => ({ method: 'DELETE', path: `/projects/${f.projectId}/states/${f.states['In review']!.id}` }),
    expect: managers(204),
  },
  {
    name: 'GET /projects/{id}/transitions',
    request: (f) => ({ method: 'GET', path: `/projects/${f.projectId}/transitions` }),
    expect: everyone(200),
  },
  {
    name: 'PUT /projects/{id}/transitions',
    request: (f) => ({
      method: 'PUT',
      path: `/projects/${f.projectId}/transitions`,
      json: [{ from_state_id: f.states['To do']!.id, to_state_id: f.states.Done!.id }],
    }),
    expect: managers(200),
  },
  {
    name: 'POST /projects/{id}/tasks',
    request: (f) => ({ method: 'POST', path: `/projects/${f.projectId}/tasks`, json: { title: 'New work' } }),
    expect: editors(201),
  },
  {
    name: 'GET /projects/{id}/tasks',
    request: (f) => ({ method: 'GET', path: `/projects/${f.projectId}/tasks` }),
    expect: everyone(200),
  },
  {
    name: 'GET /projects/{id}/tasks?include_deleted=true',
    request: (f) => ({ method: 'GET', path: `/projects/${f.projectId}/tasks?include_deleted=true` }),
    expect: managers(200),
  },
  { name: 'GET /tasks/{id}', request: (f) => ({ method: 'GET', path: `/tasks/${f.taskId}` }), expect: everyone(200) },
  {
    name: 'PATCH /tasks/{id}',
    request: (f) => ({ method: 'PATCH', path: `/tasks/${f.taskId}`, json: { title: 'Edited' } }),
    expect: editors(200),
  },
  {
    name: 'DELETE /tasks/{id}',
    request: (f) => ({ method: 'DELETE', path: `/tasks/${f.taskId}` }),
    expect: editors(200),
  },
  {
    name: 'POST /tasks/{id}/restore',
    request: (f) => ({ method: 'POST', path: `/tasks/${f.deletedTaskId}/restore` }),
    expect: editors(200),
  },
  {
    name: 'POST /tasks/{id}/transition',
    request: (f) => ({
      method: 'POST',
      path: `/tasks/${f.taskId}/transition`,
      json: { to_state_id: f.states['In progress']!.id },
    }),
    expect: editors(200),
  },
  {
    name: 'GET /tasks/{id}/history',
    request: (f) => ({ method: 'GET', path: `/tasks/${f.taskId}/history` }),
    expect: everyone(200),
  },
];
