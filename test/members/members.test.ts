import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem, linkTarget } from '../support/http.ts';
import { createProjectWithMembers, projectState } from '../support/projects.ts';
import { createUser, uniqueEmail, type TestUser } from '../support/users.ts';

const membersPath = (projectId: string, userId?: string) =>
  `/projects/${projectId}/members${userId ? `/${userId}` : ''}`;
const addMember = (by: TestUser, projectId: string, json: unknown) =>
  call('POST', membersPath(projectId), { token: by.token, json });

/** Adds at once, as only admins do (everyone else invites: test/invitations). */
let admin: TestUser;
beforeAll(async () => {
  admin = await createUser({ role: 'admin' });
});
// The suite shares "the last active admin".
afterAll(async () => {
  await sql()`update users set role = 'user' where id = ${admin.id}`;
});

async function ownedProject() {
  const owner = await createUser({ label: 'owner', fullName: 'Olive Owner' });
  const project = await createProjectWithMembers(owner);
  return { owner, project };
}

describe('POST /projects/{id}/members (admins add at once)', () => {
  it('adds an active user by email with a role: 201 with the member, who can read the project at once', async () => {
    const { project } = await ownedProject();
    const grace = await createUser({ label: 'grace', fullName: 'Grace Hopper' });
    expectProblem(await call('GET', `/projects/${project.id}`, { token: grace.token }), 404);
    const res = await addMember(admin, project.id, { email: `  ${grace.email.toUpperCase()} `, role: 'editor' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user_id: grace.id,
      email: grace.email,
      full_name: 'Grace Hopper',
      role: 'editor',
      added_at: expect.any(String),
      added_by: admin.id,
    });
    // The caller's row (admin or not) first, then the write.
    expect(databaseTraffic(res)).toEqual({ statements: 2, roundTrips: 2 });
    const read = await call('GET', `/projects/${project.id}`, { token: grace.token });
    expect(read.status).toBe(200);
    expect(read.body.my_role).toBe('editor');
  });

  it('404 with the same answer whether no user has the email or that user is deactivated', async () => {
    const { project } = await ownedProject();
    const sleeper = await createUser();
    await sql()`update users set is_active = false where id = ${sleeper.id}`;
    const unknown = expectProblem(
      await addMember(admin, project.id, { email: `nobody-${crypto.randomUUID()}@example.com`, role: 'viewer' }),
      404,
    );
    const deactivated = expectProblem(
      await addMember(admin, project.id, { email: sleeper.email, role: 'viewer' }),
      404,
    );
    expect(deactivated.detail).toBe(unknown.detail);
    expect((await projectState(project.id)).members).toHaveLength(1);
  });

  it('409 for an existing member, the owner and oneself; 422 for roles outside the set, owner included', async () => {
    const { owner, project } = await ownedProject();
    const manager = await createUser();
    await addMember(admin, project.id, { email: manager.email, role: 'manager' });
    const before = await projectState(project.id);
    expectProblem(await addMember(admin, project.id, { email: manager.email, role: 'viewer' }), 409, 'already_member');
    expectProblem(await addMember(admin, project.id, { email: owner.email, role: 'viewer' }), 409, 'already_member');
    expectProblem(await addMember(admin, project.id, { email: admin.email, role: 'viewer' }), 409, 'self_membership');
    // Members who invite get the invitation's answers: a member's address, their own included, is a 409.
    expectProblem(await addMember(manager, project.id, { email: owner.email, role: 'viewer' }), 409, 'already_member');
    expectProblem(await addMember(owner, project.id, { email: owner.email, role: 'viewer' }), 409, 'already_member');
    expectProblem(
      await addMember(manager, project.id, { email: manager.email, role: 'editor' }),
      409,
      'already_member',
    );
    for (const json of [
      { email: manager.email, role: 'owner' },
      { email: manager.email, role: 'admin' },
      { email: manager.email },
      { email: 'not-an-email', role: 'viewer' },
      { role: 'viewer' },
      null,
      [],
    ]) {
      expectProblem(await addMember(owner, project.id, json), 422);
    }
    expect(await projectState(project.id)).toEqual(before);
  });

  it('404 for unknown, deleted or malformed projects', async () => {
    const { owner, project } = await ownedProject();
    const grace = await createUser();
    expectProblem(await addMember(owner, crypto.randomUUID(), { email: grace.email, role: 'viewer' }), 404);
    expectProblem(await addMember(admin, crypto.randomUUID(), { email: grace.email, role: 'viewer' }), 404);
    await call('DELETE', `/projects/${project.id}`, { token: owner.token });
    expectProblem(await addMember(owner, project.id, { email: grace.email, role: 'viewer' }), 404);
    expectProblem(await addMember(admin, project.id, { email: grace.email, role: 'viewer' }), 404);
    expectProblem(await addMember(owner, 'not-a-uuid', { email: grace.email, role: 'viewer' }), 422);
  });

  it('concurrent adds of the same email: exactly one 201, the others 409 already_member, one row', async () => {
    const { project } = await ownedProject();
    const grace = await createUser();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => addMember(admin, project.id, { email: grace.email, role: 'viewer' })),
    );
    expect(results.map((res) => res.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    // Those that read the facts before the winner committed lose to the primary key, which their guard names.
    for (const res of results.filter((res) => res.status === 409)) expectProblem(res, 409, 'already_member');
    const rows =
      await sql()`select role from project_members where project_id = ${project.id} and user_id = ${grace.id}`;
    expect(rows).toHaveLength(1);
  });
});

describe('GET /projects/{id}/members', () => {
  it('lists every member, the owner first, paginated by cursor, in one statement', async () => {
    const { owner, project } = await ownedProject();
    const added: TestUser[] = [];
    for (const role of ['viewer', 'editor', 'manager', 'viewer']) {
      const user = await createUser();
      await addMember(admin, project.id, { email: user.email, role });
      added.push(user);
    }
    const first = await call('GET', `${membersPath(project.id)}?limit=3`, { token: added[0]!.token });
    expect(first.status).toBe(200);
    expect(first.headers.get('X-Total-Count')).toBe('5');
    expect(databaseTraffic(first)).toEqual({ statements: 1, roundTrips: 1 });
    expect(first.body[0]).toMatchObject({
      user_id: owner.id,
      role: 'owner',
      full_name: 'Olive Owner',
      added_by: owner.id,
    });
    const second = await call('GET', linkTarget(first, 'next')!, { token: added[0]!.token });
    expect([...first.body, ...second.body].map((member: { user_id: string }) => member.user_id)).toEqual([
      owner.id,
      ...added.map((user) => user.id),
    ]);
    expect(second.body.map((member: { role: string }) => member.role)).toEqual(['manager', 'viewer']);
    expect(second.headers.get('Link')).toBeNull();
  });

  it('is refused to non-members (404) and deactivated members (403)', async () => {
    const { project } = await ownedProject();
    const member = await createUser();
    await addMember(admin, project.id, { email: member.email, role: 'viewer' });
    expectProblem(await call('GET', membersPath(project.id), { token: (await createUser()).token }), 404);
    await sql()`update users set is_active = false where id = ${member.id}`;
    expectProblem(await call('GET', membersPath(project.id), { token: member.token }), 403);
    await sql()`update users set is_active = true where id = ${member.id}`;
    expect((await call('GET', membersPath(project.id), { token: member.token })).status).toBe(200);
  });
});

describe('PATCH /projects/{id}/members/{user_id}', () => {
  it('changes a role; 409 for the owner and for the caller’s own role; 404 for a non-member; 422 for owner or unknown roles', async () => {
    const { owner, project } = await ownedProject();
    const manager = await createUser();
    const grace = await createUser();
    await addMember(admin, project.id, { email: manager.email, role: 'manager' });
    await addMember(admin, project.id, { email: grace.email, role: 'viewer' });
    const changed = await call('PATCH', membersPath(project.id, grace.id), {
      token: manager.token,
      json: { role: 'editor' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ user_id: grace.id, role: 'editor', email: grace.email });
    expect(databaseTraffic(changed)).toEqual({ statements: 1, roundTrips: 1 });

    const before = await projectState(project.id);
    expectProblem(
      await call('PATCH', membersPath(project.id, owner.id), { token: manager.token, json: { role: 'viewer' } }),
      409,
    );
    expectProblem(
      await call('PATCH', membersPath(project.id, manager.id), { token: manager.token, json: { role: 'viewer' } }),
      409,
    );
    expectProblem(
      await call('PATCH', membersPath(project.id, owner.id), { token: owner.token, json: { role: 'manager' } }),
      409,
    );
    expectProblem(
      await call('PATCH', membersPath(project.id, (await createUser()).id), {
        token: owner.token,
        json: { role: 'viewer' },
      }),
      404,
    );
    expectProblem(
      await call('PATCH', membersPath(project.id, crypto.randomUUID()), {
        token: owner.token,
        json: { role: 'viewer' },
      }),
      404,
    );
    for (const json of [{ role: 'owner' }, { role: 'superuser' }, {}, { role: null }]) {
      expectProblem(await call('PATCH', membersPath(project.id, grace.id), { token: owner.token, json }), 422);
    }
    expectProblem(
      await call('PATCH', membersPath(project.id, 'nope'), { token: owner.token, json: { role: 'viewer' } }),
      422,
    );
    expect(await projectState(project.id)).toEqual(before);
  });

  it('a member promoted to manager may manage members at once; one demoted may not', async () => {
    const { owner, project } = await ownedProject();
    const grace = await createUser();
    const linus = await createUser();
    await addMember(admin, project.id, { email: grace.email, role: 'viewer' });
    await addMember(admin, project.id, { email: linus.email, role: 'viewer' });
    expectProblem(await addMember(grace, project.id, { email: uniqueEmail(), role: 'viewer' }), 403);
    await call('PATCH', membersPath(project.id, grace.id), { token: owner.token, json: { role: 'manager' } });
    expect((await addMember(grace, project.id, { email: uniqueEmail(), role: 'viewer' })).status).toBe(202);
    await call('PATCH', membersPath(project.id, grace.id), { token: owner.token, json: { role: 'editor' } });
    expectProblem(await call('DELETE', membersPath(project.id, linus.id), { token: grace.token }), 403);
  });
});

describe('DELETE /projects/{id}/members/{user_id}', () => {
  it('removes a member, whose access ends at once with the same token', async () => {
    const { owner, project } = await ownedProject();
    const grace = await createUser();
    await addMember(admin, project.id, { email: grace.email, role: 'manager' });
    expect((await call('GET', `/projects/${project.id}`, { token: grace.token })).status).toBe(200);
    const res = await call('DELETE', membersPath(project.id, grace.id), { token: owner.token });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
    expectProblem(await call('GET', `/projects/${project.id}`, { token: grace.token }), 404);
    expectProblem(
      await call('PATCH', `/projects/${project.id}`, { token: grace.token, json: { name: 'Too late' } }),
      404,
    );
    const list = await call('GET', '/projects', { token: grace.token });
    expect(list.body.map((p: { id: string }) => p.id)).not.toContain(project.id);
    expectProblem(await call('DELETE', membersPath(project.id, grace.id), { token: owner.token }), 404);
  });

  it('any member may leave; the owner can neither leave nor be removed (409)', async () => {
    const { owner, project } = await ownedProject();
    const viewer = await createUser();
    const manager = await createUser();
    await addMember(admin, project.id, { email: viewer.email, role: 'viewer' });
    await addMember(admin, project.id, { email: manager.email, role: 'manager' });
    expect((await call('DELETE', membersPath(project.id, viewer.id), { token: viewer.token })).status).toBe(204);
    expectProblem(await call('DELETE', membersPath(project.id, owner.id), { token: owner.token }), 409);
    expectProblem(await call('DELETE', membersPath(project.id, owner.id), { token: manager.token }), 409);
    expectProblem(await call('DELETE', membersPath(project.id, owner.id), { token: admin.token }), 409);
    expect((await projectState(project.id)).members.map((m) => m.role).sort()).toEqual(['manager', 'owner']);
  });

  it('a deactivated member loses access at once; reactivation restores it', async () => {
    const { project } = await ownedProject();
    const grace = await createUser();
    await addMember(admin, project.id, { email: grace.email, role: 'editor' });
    await sql()`update users set is_active = false where id = ${grace.id}`;
    expectProblem(await call('GET', `/projects/${project.id}`, { token: grace.token }), 403);
    expectProblem(await call('DELETE', membersPath(project.id, grace.id), { token: grace.token }), 403);
    await sql()`update users set is_active = true where id = ${grace.id}`;
    expect((await call('GET', `/projects/${project.id}`, { token: grace.token })).body.my_role).toBe('editor');
  });
});
