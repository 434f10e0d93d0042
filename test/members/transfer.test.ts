import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { createProjectWithMembers, projectState } from '../support/projects.ts';
import { createUser } from '../support/users.ts';

const transfer = (token: string, projectId: string, userId: unknown) =>
  call('POST', `/projects/${projectId}/transfer`, { token, json: { user_id: userId } });

/** The invariant: exactly one owner row, and it is the user projects.owner_id names. */
async function expectExactlyOneOwner(projectId: string) {
  const owners = await sql()`select user_id from project_members where project_id = ${projectId} and role = 'owner'`;
  const [project] = await sql()`select owner_id from projects where id = ${projectId}`;
  expect(owners).toHaveLength(1);
  expect(owners[0]!.user_id).toBe(project!.owner_id);
  return project!.owner_id as string;
}

describe('POST /projects/{id}/transfer', () => {
  it('makes a member the owner; the previous owner stays as a manager', async () => {
    const owner = await createUser();
    const grace = await createUser();
    const project = await createProjectWithMembers(owner, [[grace, 'editor']]);
    const res = await transfer(owner.token, project.id, grace.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: project.id, owner_id: grace.id, my_role: 'manager', version: 2 });
    expect(res.headers.get('ETag')).toBe('"2"');
    expect(await expectExactlyOneOwner(project.id)).toBe(grace.id);
    const roles = Object.fromEntries((await projectState(project.id)).members.map((m) => [m.user_id, m.role]));
    expect(roles).toEqual({ [owner.id]: 'manager', [grace.id]: 'owner' });
    // The new owner has the owner's rights; the old one a manager's.
    expect((await call('GET', `/projects/${project.id}`, { token: grace.token })).body.my_role).toBe('owner');
    expectProblem(await call('DELETE', `/projects/${project.id}`, { token: owner.token }), 403);
    expect((await call('DELETE', `/projects/${project.id}`, { token: grace.token })).status).toBe(200);
  });

  it('an admin may transfer any project; a manager may not (403); a non-member gets 404', async () => {
    const owner = await createUser();
    const manager = await createUser();
    const admin = await createUser({ role: 'admin' });
    const project = await createProjectWithMembers(owner, [[manager, 'manager']]);
    expectProblem(await transfer(manager.token, project.id, manager.id), 403);
    expectProblem(await transfer((await createUser()).token, project.id, manager.id), 404);
    const res = await transfer(admin.token, project.id, manager.id);
    expect(res.status).toBe(200);
    expect(res.body.my_role).toBe('admin');
    expect(await expectExactlyOneOwner(project.id)).toBe(manager.id);
  });

  it('refuses a non-member, a deactivated member, the current owner and bad ids, changing nothing', async () => {
    const owner = await createUser();
    const sleeper = await createUser();
    const project = await createProjectWithMembers(owner, [[sleeper, 'viewer']]);
    await sql()`update users set is_active = false where id = ${sleeper.id}`;
    const before = await projectState(project.id);
    expectProblem(await transfer(owner.token, project.id, (await createUser()).id), 409);
    expectProblem(await transfer(owner.token, project.id, crypto.randomUUID()), 409);
    expectProblem(await transfer(owner.token, project.id, sleeper.id), 409);
    expectProblem(await transfer(owner.token, project.id, owner.id), 409);
    for (const userId of ['nope', null, 7, undefined])
      expectProblem(await transfer(owner.token, project.id, userId), 422);
    expectProblem(await transfer(owner.token, crypto.randomUUID(), sleeper.id), 404);
    expect(await projectState(project.id)).toEqual(before);
    await call('DELETE', `/projects/${project.id}`, { token: owner.token });
    await sql()`update users set is_active = true where id = ${sleeper.id}`;
    expectProblem(await transfer(owner.token, project.id, sleeper.id), 404);
  });
});

describe('transfer races', () => {
  it('concurrent transfers to different members leave exactly one owner, and it is one of them', async () => {
    const owner = await createUser();
    const admin = await createUser({ role: 'admin' });
    const candidates = await Promise.all([createUser(), createUser(), createUser(), createUser()]);
    const project = await createProjectWithMembers(owner, candidates.map((user) => [user, 'editor'] as const) as never);
    const results = await Promise.all(
      candidates.flatMap((candidate) => [
        transfer(owner.token, project.id, candidate.id),
        transfer(admin.token, project.id, candidate.id),
      ]),
    );
    for (const res of results) expect([200, 403, 409]).toContain(res.status);
    const finalOwner = await expectExactlyOneOwner(project.id);
    expect(candidates.map((user) => user.id)).toContain(finalOwner);
    // Everyone is still there: the previous owners as managers.
    const members = (await projectState(project.id)).members;
    expect(members).toHaveLength(5);
    expect(members.filter((m) => m.role === 'owner')).toHaveLength(1);
    // The owner's own transfer runs first or finds it is no longer the owner.
    expect(results.filter((res) => res.status === 200).length).toBeGreaterThanOrEqual(1);
  });

  it('a transfer racing the removal of its new owner never leaves the project without its one owner', async () => {
    for (let round = 0; round < 6; round++) {
      const owner = await createUser();
      const grace = await createUser();
      const project = await createProjectWithMembers(owner, [[grace, 'manager']]);
      const [moved, removed] = await Promise.all([
        transfer(owner.token, project.id, grace.id),
        call('DELETE', `/projects/${project.id}/members/${grace.id}`, { token: owner.token }),
      ]);
      const finalOwner = await expectExactlyOneOwner(project.id);
      const graceRow = (await projectState(project.id)).members.find((m) => m.user_id === grace.id);
      if (moved.status === 200) {
        // The transfer won: the removal found an owner it may not remove, or ran on the manager before.
        expect(finalOwner).toBe(grace.id);
        expect(removed.status).toBe(409);
      } else {
        expect(moved.status).toBe(409);
        expect(removed.status).toBe(204);
        expect(finalOwner).toBe(owner.id);
        expect(graceRow).toBeUndefined();
      }
    }
  });

  it('a transfer racing adds of other members keeps every add and the one owner', async () => {
    const owner = await createUser();
    const grace = await createUser();
    const newcomers = await Promise.all([createUser(), createUser(), createUser()]);
    const project = await createProjectWithMembers(owner, [[grace, 'manager']]);
    // Added at once by an admin, as only admins add (anyone else invites).
    const admin = await createUser({ role: 'admin' });
    const results = await Promise.all([
      transfer(owner.token, project.id, grace.id),
      ...newcomers.map((user) =>
        call('POST', `/projects/${project.id}/members`, {
          token: admin.token,
          json: { email: user.email, role: 'viewer' },
        }),
      ),
    ]);
    await sql()`update users set role = 'user' where id = ${admin.id}`;
    expect(results[0]!.status).toBe(200);
    expect(await expectExactlyOneOwner(project.id)).toBe(grace.id);
    // The old owner stays a manager after the transfer, so adds that ran after it still succeed.
    for (const res of results.slice(1)) expect(res.status).toBe(201);
    expect((await projectState(project.id)).members).toHaveLength(5);
  });
});
