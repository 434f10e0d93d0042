import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem } from '../support/http.ts';
import { createUser } from '../support/users.ts';

/*
 * The token middleware reads no database; each protected route checks the caller in its own statement
 * (projects) or through currentUser (me, admin). These checks hold every protected route of the contract
 * to the same rules, with requests that would otherwise succeed.
 */
type Request = { method: string; path: string; json?: unknown; headers?: Record<string, string> };

async function protectedRoutes(): Promise<string[]> {
  const doc = (await call('GET', '/openapi.json')).body as {
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) => operation.security?.length)
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
}

/** A valid request to every protected route, acting on a project the caller owns and on another user. */
function requestsFor(projectId: string, otherUserId: string, ownerId: string): Request[] {
  return [
    { method: 'GET', path: '/auth/me' },
    { method: 'PATCH', path: '/auth/me', json: { full_name: 'Refused' } },
    {
      method: 'POST',
      path: '/auth/me/password',
      json: { current_password: 'correct horse battery', new_password: 'a new long password' },
    },
    {
      method: 'POST',
      path: '/auth/me/email',
      json: { new_email: 'moved@example.com', current_password: 'correct horse battery' },
    },
    { method: 'POST', path: '/auth/email/verify/resend' },
    { method: 'GET', path: '/invitations' },
    { method: 'POST', path: '/invitations/accept', json: { token: 'an invitation token' } },
    { method: 'POST', path: `/invitations/${otherUserId}/accept` },
    {
      method: 'POST',
      path: `/projects/${projectId}/invitations`,
      json: { email: 'someone@example.com', role: 'viewer' },
    },
    { method: 'GET', path: `/projects/${projectId}/invitations` },
    { method: 'DELETE', path: `/projects/${projectId}/invitations/${otherUserId}` },
    { method: 'POST', path: '/auth/logout-all' },
    { method: 'GET', path: '/auth/sessions' },
    { method: 'DELETE', path: `/auth/sessions/${otherUserId}` },
    {
      method: 'POST',
      path: '/auth/api-keys',
      json: { name: 'Refused', scopes: ['tasks:read'], expires_at: new Date(Date.now() + 86_400_000).toISOString() },
    },
    { method: 'GET', path: '/auth/api-keys' },
    { method: 'DELETE', path: `/auth/api-keys/${otherUserId}` },
    { method: 'GET', path: '/auth/credential' },
    { method: 'GET', path: `/auth/admin/users/${otherUserId}/api-keys` },
    { method: 'DELETE', path: `/auth/admin/users/${otherUserId}/api-keys/${projectId}` },
    { method: 'GET', path: '/auth/admin/users' },
    { method: 'GET', path: `/auth/admin/users/${otherUserId}` },
    { method: 'GET', path: `/auth/admin/audit?actor_id=${otherUserId}` },
    { method: 'PATCH', path: `/auth/admin/users/${otherUserId}/role`, json: { role: 'user' } },
    { method: 'PATCH', path: `/auth/admin/users/${otherUserId}/status`, json: { is_active: true } },
    { method: 'POST', path: '/projects', json: { name: 'Refused' } },
    { method: 'GET', path: '/projects' },
    { method: 'GET', path: `/projects?owner_id=${ownerId}` },
    { method: 'GET', path: '/projects?offset=1000' },
    { method: 'GET', path: `/projects/${projectId}` },
    { method: 'PUT', path: `/projects/${projectId}`, json: { name: 'Refused' } },
    {
      method: 'PATCH',
      path: `/projects/${projectId}`,
      json: { description: 'Refused' },
      headers: { 'If-Match': '"1"' },
    },
    { method: 'DELETE', path: `/projects/${projectId}` },
    { method: 'POST', path: `/projects/${projectId}/restore` },
    { method: 'GET', path: `/projects/${projectId}/members` },
    { method: 'GET', path: `/projects/${projectId}/activity` },
    { method: 'POST', path: `/projects/${projectId}/members`, json: { email: 'someone@example.com', role: 'viewer' } },
    { method: 'PATCH', path: `/projects/${projectId}/members/${otherUserId}`, json: { role: 'editor' } },
    { method: 'DELETE', path: `/projects/${projectId}/members/${otherUserId}` },
    { method: 'POST', path: `/projects/${projectId}/transfer`, json: { user_id: otherUserId } },
    { method: 'GET', path: `/projects/${projectId}/states` },
    { method: 'POST', path: `/projects/${projectId}/states`, json: { name: 'Refused', category: 'started' } },
    { method: 'PATCH', path: `/projects/${projectId}/states/${otherUserId}`, json: { name: 'Refused' } },
    { method: 'DELETE', path: `/projects/${projectId}/states/${otherUserId}` },
    { method: 'GET', path: `/projects/${projectId}/transitions` },
    { method: 'PUT', path: `/projects/${projectId}/transitions`, json: [] },
    { method: 'POST', path: `/projects/${projectId}/tasks`, json: { title: 'Refused' } },
    { method: 'GET', path: `/projects/${projectId}/tasks` },
    { method: 'GET', path: '/tasks?assignee=me' },
    { method: 'GET', path: `/tasks/${otherUserId}` },
    { method: 'PATCH', path: `/tasks/${otherUserId}`, json: { title: 'Refused' } },
    { method: 'DELETE', path: `/tasks/${otherUserId}` },
    { method: 'POST', path: `/tasks/${otherUserId}/restore` },
    { method: 'POST', path: `/tasks/${otherUserId}/transition`, json: { to_state_id: otherUserId } },
    { method: 'GET', path: `/tasks/${otherUserId}/history` },
  ];
}

// The member routes name a user after the project: `{user_id}` in the contract.
const templated = (path: string) =>
  path
    .split('?')[0]!
    .replace(/[0-9a-f-]{36}/, '{id}')
    .replace(/(members\/)[0-9a-f-]{36}/, '$1{user_id}')
    .replace(/(states\/)[0-9a-f-]{36}/, '$1{state_id}')
    .replace(/(invitations\/)[0-9a-f-]{36}/, '$1{invitation_id}')
    .replace(/(users\/\{id\}\/api-keys\/)[0-9a-f-]{36}/, '$1{key_id}')
    .replace(/[0-9a-f-]{36}/g, '{id}');

describe('every protected route checks the caller in the database', () => {
  it('the requests below cover every protected route of the contract', async () => {
    const covered = new Set(
      requestsFor(crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()).map(
        (r) => `${r.method} ${templated(r.path)}`,
      ),
    );
    expect([...covered].sort()).toEqual((await protectedRoutes()).sort());
  });

  it('403 for a deactivated admin on every route, and nothing changes', async () => {
    const admin = await createUser({ role: 'admin' });
    const other = await createUser();
    const project = (await call('POST', '/projects', { token: admin.token, json: { name: 'Kept' } })).body;
    await sql()`update users set is_active = false where id = ${admin.id}`;
    for (const request of requestsFor(project.id, other.id, admin.id)) {
      const res = await call(request.method, request.path, {
        token: admin.token,
        json: request.json,
        headers: request.headers,
      });
      expect(expectProblem(res, 403).detail, `${request.method} ${request.path}`).toMatch(/inactive/);
    }
    const [row] = await sql()`select name, version, is_active from projects where id = ${project.id}`;
    expect(row).toEqual({ name: 'Kept', version: 1, is_active: true });
    expect(Number((await sql()`select count(*) from projects where owner_id = ${admin.id}`)[0]!.count)).toBe(1);
  });

  it('401 for a token whose user no longer exists, on every route', async () => {
    const owner = await createUser();
    const other = await createUser();
    const vanished = await createUser({ role: 'admin' });
    const project = (await call('POST', '/projects', { token: owner.token, json: { name: 'Kept' } })).body;
    await sql()`delete from users where id = ${vanished.id}`;
    for (const request of requestsFor(project.id, other.id, owner.id)) {
      const res = await call(request.method, request.path, {
        token: vanished.token,
        json: request.json,
        headers: request.headers,
      });
      expect(expectProblem(res, 401).detail, `${request.method} ${request.path}`).toMatch(/invalid token/);
    }
    const [row] = await sql()`select name, version, is_active from projects where id = ${project.id}`;
    expect(row).toEqual({ name: 'Kept', version: 1, is_active: true });
  });

  it('a regular user is refused the admin routes after the one statement that reads the caller', async () => {
    const user = await createUser();
    const res = await call('GET', '/auth/admin/users', { token: user.token });
    expectProblem(res, 403);
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
  });
});
