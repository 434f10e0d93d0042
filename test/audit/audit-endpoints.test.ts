import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem, linkTarget, type ApiResponse } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask } from '../support/tasks.ts';
import { createUser, type TestUser } from '../support/users.ts';

const audit = (admin: TestUser, query: string) => call('GET', `/auth/admin/audit?${query}`, { token: admin.token });

/** Follows `Link: rel="next"` from `first` to the end, with `between` run after each page. */
async function allPages(token: string, first: string, between: () => Promise<void> = async () => {}) {
  const pages: ApiResponse[] = [];
  let next: string | undefined = first;
  while (next) {
    const page = await call('GET', next, { token });
    expect(page.status, page.text).toBe(200);
    pages.push(page);
    next = linkTarget(page, 'next');
    await between();
  }
  return pages;
}

const rename = (user: TestUser, projectId: string, name: string) =>
  call('PATCH', `/projects/${projectId}`, { token: user.token, json: { name } });

describe('GET /auth/admin/audit', () => {
  it('shows each event with who, what, when, from where and the change, newest first', async () => {
    const admin = await createUser({ role: 'admin' });
    const owner = await createUser();
    const project = await createProjectWithMembers(owner, [], 'Before');
    const renamed = await call('PATCH', `/projects/${project.id}`, {
      token: owner.token,
      json: { name: 'After' },
      headers: { 'User-Agent': 'audit-ua/2', 'CF-Connecting-IP': '198.51.100.9', 'X-Request-Id': 'audit-request-1' },
    });
    const res = await audit(admin, `project_id=${project.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Total-Count')).toBe('2');
    expect(res.body.map((event: { action: string }) => event.action)).toEqual(['project.update', 'project.create']);
    expect(res.body[0]).toEqual({
      id: expect.any(Number),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      actor_id: owner.id,
      action: 'project.update',
      entity_type: 'project',
      entity_id: project.id,
      project_id: project.id,
      // The server's id for the request, never the one the client sent.
      request_id: renamed.headers.get('X-Request-Id'),
      credential: { kind: 'session', api_key_id: null },
      ip: '198.51.100.9',
      user_agent: 'audit-ua/2',
      changes: { name: { old: 'Before', new: 'After' } },
    });
    expect(res.body[0].id).toBeGreaterThan(res.body[1].id);
  });

  it('filters by actor, action (exact or family), entity type, entity, project and time, combined', async () => {
    const admin = await createUser({ role: 'admin' });
    const owner = await createUser();
    const editor = await createUser();
    const project = await createProjectWithMembers(owner, [[editor, 'editor']]);
    const task = await createTask(editor, project.id);
    await call('PATCH', `/tasks/${task.id}`, { token: owner.token, json: { title: 'Renamed' } });
    const [{ now }] = (await sql()`select now() as now`) as unknown as [{ now: Date }];
    await rename(owner, project.id, 'Later');

    const actions = async (query: string) => {
      const res = await audit(admin, query);
      expect(res.status, res.text).toBe(200);
      return res.body.map((event: { action: string }) => event.action);
    };
    expect(await actions(`project_id=${project.id}`)).toEqual([
      'project.update',
      'task.update',
      'task.create',
      'project.create',
    ]);
    expect(await actions(`project_id=${project.id}&actor_id=${editor.id}`)).toEqual(['task.create']);
    expect(await actions(`project_id=${project.id}&action=task.*`)).toEqual(['task.update', 'task.create']);
    expect(await actions(`project_id=${project.id}&action=task.update`)).toEqual(['task.update']);
    expect(await actions(`project_id=${project.id}&entity_type=project`)).toEqual(['project.update', 'project.create']);
    expect(await actions(`entity_id=${task.id}`)).toEqual(['task.update', 'task.create']);
    expect(await actions(`actor_id=${owner.id}&action=project.*`)).toEqual(['project.update', 'project.create']);
    expect(await actions(`project_id=${project.id}&since=${encodeURIComponent(now.toISOString())}`)).toEqual([
      'project.update',
    ]);
    expect(await actions(`project_id=${project.id}&until=${encodeURIComponent(now.toISOString())}`)).toEqual([
      'task.update',
      'task.create',
      'project.create',
    ]);
    expect(
      await actions(`project_id=${project.id}&since=2000-01-01T00:00:00%2B02:00&until=2000-01-02T00:00:00Z`),
    ).toEqual([]);
    expect(await actions(`actor_id=${editor.id}&action=auth.login_failed`)).toEqual([]);
  });

  it('pages by cursor: every event once, in order, however many arrive while paging', async () => {
    const admin = await createUser({ role: 'admin' });
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    for (let index = 0; index < 7; index++) await rename(owner, project.id, `Name ${index}`);
    const expected = (
      await sql()`select id from audit_events where project_id = ${project.id} order by at desc, id desc`
    ).map((row) => Number(row.id));
    expect(expected).toHaveLength(8);
    let renames = 0;
    const pages = await allPages(admin.token, `/auth/admin/audit?project_id=${project.id}&limit=3`, async () => {
      await rename(owner, project.id, `Meanwhile ${renames++}`);
    });
    expect(pages.map((page) => page.body.length)).toEqual([3, 3, 2]);
    expect(pages.flatMap((page) => page.body.map((event: { id: number }) => event.id))).toEqual(expected);
    expect(pages[0]!.headers.get('X-Total-Count')).toBe('8');
  });

  it('refuses a cursor from another query, a cursor changed by hand, and one from another list (422)', async () => {
    const admin = await createUser({ role: 'admin' });
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    for (let index = 0; index < 3; index++) await rename(owner, project.id, `Name ${index}`);
    const first = await audit(admin, `project_id=${project.id}&limit=2`);
    const cursor = new URL(linkTarget(first, 'next')!, 'http://x').searchParams.get('cursor')!;
    expect((await audit(admin, `project_id=${project.id}&limit=2&cursor=${cursor}`)).status).toBe(200);

    const refused = async (query: string) => {
      const problem = expectProblem(await audit(admin, query), 422);
      expect(problem.errors).toEqual([{ path: 'query.cursor', message: expect.any(String) }]);
    };
    await refused(`project_id=${owner.id}&limit=2&cursor=${cursor}`);
    await refused(`project_id=${project.id}&action=project.*&limit=2&cursor=${cursor}`);
    await refused(`limit=2&cursor=${cursor}`);
    const decoded = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
    const encode = (value: unknown) =>
      btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    await refused(
      `project_id=${project.id}&limit=2&cursor=${encode({ ...decoded, k: [decoded.k[0], String(Number(decoded.k[1]) + 1)] })}`,
    );
    await refused(`project_id=${project.id}&limit=2&cursor=${encode({ ...decoded, m: undefined })}`);
    await refused(`project_id=${project.id}&limit=2&cursor=${cursor.slice(0, -2)}${cursor.endsWith('A') ? 'B' : 'A'}A`);
    const activity = await call('GET', `/projects/${project.id}/activity?limit=2&cursor=${cursor}`, {
      token: owner.token,
    });
    expectProblem(activity, 422);
    const users = await call('GET', `/auth/admin/users?limit=1&cursor=${cursor}`, { token: admin.token });
    expectProblem(users, 422);
  });

  it('answers bad filters with 422 problem+json naming the parameter', async () => {
    const admin = await createUser({ role: 'admin' });
    const cases: [string, string][] = [
      ['since=yesterday', 'query.since'],
      ['since=2026-11-25', 'query.since'],
      ['until=2026-11-25T10:00:00', 'query.until'],
      ['since=0000-01-01T00:00:00Z', 'query.since'],
      ['since=2026-11-25T10:00:00Z&until=2026-11-25T09:59:59Z', 'query.until'],
      ['action=project.explode', 'query.action'],
      ['action=nothing.*', 'query.action'],
      ['action=*', 'query.action'],
      ['entity_type=planet', 'query.entity_type'],
      ['actor_id=42', 'query.actor_id'],
      ['entity_id=not-a-uuid', 'query.entity_id'],
      ['project_id=%27', 'query.project_id'],
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['cursor=garbage', 'query.cursor'],
    ];
    for (const [query, path] of cases) {
      const problem = expectProblem(await audit(admin, query), 422);
      expect(
        problem.errors?.map((error) => error.path),
        query,
      ).toContain(path);
    }
  });

  it('is for admins only: 401 without a token, 403 for everyone else', async () => {
    const user = await createUser();
    expectProblem(await call('GET', '/auth/admin/audit'), 401);
    expectProblem(await call('GET', '/auth/admin/audit', { token: user.token }), 403);
  });
});

describe('GET /projects/{id}/activity', () => {
  it("any member reads the project's events (project, members, states, tasks), without client addresses", async () => {
    const owner = await createUser();
    const viewer = await createUser();
    const project = await createProjectWithMembers(owner, [[viewer, 'viewer']]);
    const task = await createTask(owner, project.id);
    await call('POST', `/projects/${project.id}/states`, {
      token: owner.token,
      json: { name: 'QA', category: 'started' },
    });
    const outsider = await createUser();
    // Added at once by an admin (anyone else's add is an invitation until accepted).
    const admin = await createUser({ role: 'admin' });
    await call('POST', `/projects/${project.id}/members`, {
      token: admin.token,
      json: { email: outsider.email, role: 'editor' },
    });
    await sql()`update users set role = 'user' where id = ${admin.id}`;
    const other = await createProjectWithMembers(owner);

    const res = await call('GET', `/projects/${project.id}/activity`, { token: viewer.token });
    expect(res.status).toBe(200);
    expect(res.body.map((event: { action: string }) => event.action)).toEqual([
      'member.add',
      'state.create',
      'task.create',
      'project.create',
    ]);
    expect(res.body.every((event: { project_id: string }) => event.project_id === project.id)).toBe(true);
    expect(res.body.map((event: object) => Object.keys(event))).not.toContainEqual(expect.arrayContaining(['ip']));
    expect(res.body[2]).toMatchObject({ entity_type: 'task', entity_id: task.id, actor_id: owner.id });
    expect(res.body.some((event: { entity_id: string }) => event.entity_id === other.id)).toBe(false);

    const tasksOnly = await call('GET', `/projects/${project.id}/activity?action=task.*`, { token: viewer.token });
    expect(tasksOnly.body.map((event: { action: string }) => event.action)).toEqual(['task.create']);
    const paged = await allPages(viewer.token, `/projects/${project.id}/activity?limit=1`);
    expect(paged.flatMap((page) => page.body.map((event: { id: number }) => event.id))).toEqual(
      res.body.map((event: { id: number }) => event.id),
    );
  });

  it('404 for non-members and unknown projects, 401 without a token, 422 for bad filters; admins may read it', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    const admin = await createUser({ role: 'admin' });
    const project = await createProjectWithMembers(owner);
    expectProblem(await call('GET', `/projects/${project.id}/activity`, { token: stranger.token }), 404);
    expectProblem(await call('GET', `/projects/${crypto.randomUUID()}/activity`, { token: owner.token }), 404);
    expectProblem(await call('GET', `/projects/${project.id}/activity`), 401);
    expectProblem(await call('GET', `/projects/${project.id}/activity?since=garbage`, { token: owner.token }), 422);
    expectProblem(await call('GET', `/projects/${project.id}/activity?action=member.fly`, { token: owner.token }), 422);
    expect((await call('GET', `/projects/${project.id}/activity`, { token: admin.token })).status).toBe(200);
  });

  it("keeps a deleted task's changes from those who may not read deleted tasks, as GET /tasks/{id} does", async () => {
    const owner = await createUser();
    const viewer = await createUser();
    const manager = await createUser();
    const project = await createProjectWithMembers(owner, [
      [viewer, 'viewer'],
      [manager, 'manager'],
    ]);
    const task = await createTask(owner, project.id, { title: 'Secret plan', description: 'the details' });
    await call('PATCH', `/tasks/${task.id}`, { token: owner.token, json: { title: 'Secret plan, revised' } });
    expect((await call('DELETE', `/tasks/${task.id}`, { token: owner.token })).status).toBe(200);
    expectProblem(await call('GET', `/tasks/${task.id}`, { token: viewer.token }), 404);

    const taskEvents = async (user: TestUser) =>
      (
        await call('GET', `/projects/${project.id}/activity?entity_type=task&limit=100`, { token: user.token })
      ).body.filter((event: { entity_id: string }) => event.entity_id === task.id);
    const seenByViewer = await taskEvents(viewer);
    expect(seenByViewer.length).toBeGreaterThanOrEqual(3);
    for (const event of seenByViewer) {
      expect(event.changes).toEqual({});
      expect(event.redacted).toBe(true);
    }
    expect(JSON.stringify(seenByViewer)).not.toMatch(/Secret|details/);
    for (const user of [manager, owner]) {
      const seen = await taskEvents(user);
      expect(JSON.stringify(seen)).toMatch(/Secret plan, revised/);
      expect(seen.every((event: { redacted?: boolean }) => event.redacted === undefined)).toBe(true);
    }
    // Restored, it is readable again, and so is its history.
    expect((await call('POST', `/tasks/${task.id}/restore`, { token: owner.token })).status).toBe(200);
    expect(JSON.stringify(await taskEvents(viewer))).toMatch(/Secret plan/);
  });
});
