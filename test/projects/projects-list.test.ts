import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem, databaseTraffic, linkTarget } from '../support/http.ts';
import { createUser, type TestUser } from '../support/users.ts';

const ids = (body: { id: string }[]) => body.map((p) => p.id);

async function seed(owner: TestUser, names: string[]) {
  const created = [];
  for (const name of names) {
    const res = await call('POST', '/projects', { token: owner.token, json: { name } });
    created.push(res.body as { id: string; name: string });
  }
  return created;
}

describe('GET /projects', () => {
  it('a user sees only their own active projects, newest first, in one statement and one round trip', async () => {
    const alice = await createUser();
    const bob = await createUser();
    const [a1, a2, a3] = await seed(alice, ['a1', 'a2', 'a3']);
    await seed(bob, ['b1']);
    await call('DELETE', `/projects/${a2!.id}`, { token: alice.token });
    const res = await call('GET', '/projects', { token: alice.token });
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual([a3!.id, a1!.id]);
    expect(res.headers.get('X-Total-Count')).toBe('2');
    expect(res.headers.get('Link')).toBeNull();
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
  });

  it('paginates with limit/offset or the cursor of Link: rel="next", with X-Total-Count', async () => {
    const owner = await createUser();
    const created = await seed(owner, ['p0', 'p1', 'p2', 'p3', 'p4']);
    const page = await call('GET', '/projects?limit=2&offset=2', { token: owner.token });
    expect(ids(page.body)).toEqual([created[2]!.id, created[1]!.id]);
    expect(page.headers.get('X-Total-Count')).toBe('5');
    expect(linkTarget(page, 'prev')).toBe('/projects?limit=2&offset=0');
    const next = await call('GET', linkTarget(page, 'next')!, { token: owner.token });
    expect(ids(next.body)).toEqual([created[0]!.id]);
    expect(next.headers.get('Link')).toBeNull();
    expect(databaseTraffic(next)).toEqual({ statements: 1, roundTrips: 1 });

    const defaults = await call('GET', '/projects', { token: owner.token });
    expect(defaults.body).toHaveLength(5);
    const empty = await call('GET', '/projects?offset=100', { token: owner.token });
    expect(empty.body).toEqual([]);
    expect(empty.headers.get('X-Total-Count')).toBe('5');
  });

  it('sorts by name, created_at and updated_at in both directions', async () => {
    const owner = await createUser();
    const [c, a, b] = await seed(owner, ['charlie', 'alpha', 'bravo']);
    const order = async (sort: string) =>
      ids((await call('GET', `/projects?sort=${sort}`, { token: owner.token })).body);
    expect(await order('name')).toEqual([a!.id, b!.id, c!.id]);
    expect(await order('-name')).toEqual([c!.id, b!.id, a!.id]);
    expect(await order('created_at')).toEqual([c!.id, a!.id, b!.id]);
    expect(await order('-created_at')).toEqual([b!.id, a!.id, c!.id]);
    await call('PATCH', `/projects/${c!.id}`, { token: owner.token, json: { description: 'touched' } });
    expect((await order('-updated_at'))[0]).toBe(c!.id);
    expect((await order('updated_at')).at(-1)).toBe(c!.id);
  });

  it('filters by q, case-insensitively, with LIKE wildcards taken literally', async () => {
    const owner = await createUser();
    const [roadmap, , percent] = await seed(owner, ['Q3 Roadmap', 'Hiring', '100% done']);
    expect(ids((await call('GET', '/projects?q=roadMAP', { token: owner.token })).body)).toEqual([roadmap!.id]);
    expect(ids((await call('GET', `/projects?q=${encodeURIComponent('%')}`, { token: owner.token })).body)).toEqual([
      percent!.id,
    ]);
    expect(ids((await call('GET', '/projects?q=_', { token: owner.token })).body)).toEqual([]);
  });

  it('an admin sees every active project, may filter by owner_id and include deleted ones', async () => {
    const admin = await createUser({ role: 'admin' });
    const owner = await createUser();
    const [kept, gone] = await seed(owner, ['kept', 'gone']);
    await call('DELETE', `/projects/${gone!.id}`, { token: owner.token });

    const mine = await call('GET', `/projects?owner_id=${owner.id}`, { token: admin.token });
    expect(ids(mine.body)).toEqual([kept!.id]);
    const all = await call('GET', `/projects?owner_id=${owner.id}&include_deleted=true`, { token: admin.token });
    expect(ids(all.body)).toEqual([gone!.id, kept!.id]);
    const everyone = await call('GET', '/projects?limit=100', { token: admin.token });
    const active = Number((await sql()`select count(*) from projects where is_active`)[0]!.count);
    // Other test files may have left more than the exact count's cap of 1,000.
    if (active > 1000) expect(everyone.headers.get('X-Total-Count-Exceeds')).toBe('1000');
    else expect(Number(everyone.headers.get('X-Total-Count'))).toBe(active);
  });

  it('a non-admin passing owner_id or include_deleted gets 403', async () => {
    const user = await createUser();
    expectProblem(await call('GET', `/projects?owner_id=${user.id}`, { token: user.token }), 403);
    expectProblem(await call('GET', '/projects?include_deleted=true', { token: user.token }), 403);
    expectProblem(await call('GET', '/projects?include_deleted=false', { token: user.token }), 403);
  });

  const bad = [
    'limit=0',
    'limit=101',
    'limit=-5',
    'limit=ten',
    'offset=-1',
    'offset=1e99',
    'sort=owner_id',
    'sort=name;drop',
    'owner_id=not-a-uuid',
    'include_deleted=1',
    `q=${'q'.repeat(201)}`,
    'q=%01',
  ];
  for (const query of bad) {
    it(`422 for ${query.slice(0, 24)}`, async () => {
      const admin = await createUser({ role: 'admin' });
      expectProblem(await call('GET', `/projects?${query}`, { token: admin.token }), 422);
    });
  }

  it('401 without a token', async () => {
    expectProblem(await call('GET', '/projects'), 401);
  });
});
