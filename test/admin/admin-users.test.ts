import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem, linkTarget } from '../support/http.ts';
import { createUser, logIn, PASSWORD } from '../support/users.ts';

const ADMIN_ROUTES: [string, (id: string) => string, unknown?][] = [
  ['GET', () => '/auth/admin/users'],
  ['GET', (id) => `/auth/admin/users/${id}`],
  ['PATCH', (id) => `/auth/admin/users/${id}/role`, { role: 'admin' }],
  ['PATCH', (id) => `/auth/admin/users/${id}/status`, { is_active: false }],
];

describe('admin routes are admin only', () => {
  for (const [method, path, json] of ADMIN_ROUTES) {
    it(`${method} ${path(':id')}: 401 without a token, 403 for a user, role re-read on every request`, async () => {
      const user = await createUser();
      const target = await createUser();
      expectProblem(await call(method, path(target.id), { json }), 401);
      expectProblem(await call(method, path(target.id), { json, token: 'garbage' }), 401);
      expectProblem(await call(method, path(target.id), { json, token: user.token }), 403, 'role_required');
      // Nothing changed for the target.
      const [row] = await sql()`select role, is_active from users where id = ${target.id}`;
      expect(row).toEqual({ role: 'user', is_active: true });
    });
  }

  it('a demotion takes effect on the next request, with the same token', async () => {
    const admin = await createUser({ role: 'admin' });
    await createUser({ role: 'admin' }); // so the demotion is allowed
    expect((await call('GET', '/auth/admin/users', { token: admin.token })).status).toBe(200);
    await sql()`update users set role = 'user' where id = ${admin.id}`;
    expectProblem(await call('GET', '/auth/admin/users', { token: admin.token }), 403);
  });
});

describe('GET /auth/admin/users', () => {
  it('lists newest first with X-Total-Count and Link headers: next by cursor, prev by offset', async () => {
    const admin = await createUser({ role: 'admin' });
    const tag = crypto.randomUUID().slice(0, 8);
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await createUser({ label: `page-${tag}-${i}` }));
    const ids = (res: { body: { id: string }[] }) => res.body.map((u) => u.id);
    const res = await call('GET', `/auth/admin/users?q=page-${tag}&limit=2&offset=0`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Total-Count')).toBe('5');
    expect(ids(res)).toEqual([created[4]!.id, created[3]!.id]);
    expect(res.headers.get('Link')).toMatch(
      new RegExp(`^</auth/admin/users\\?q=page-${tag}&limit=2&cursor=[\\w-]+>; rel="next"$`),
    );

    const second = await call('GET', linkTarget(res, 'next')!, { token: admin.token });
    expect(ids(second)).toEqual([created[2]!.id, created[1]!.id]);
    expect(linkTarget(second, 'prev')).toBeUndefined();
    const third = await call('GET', linkTarget(second, 'next')!, { token: admin.token });
    expect(ids(third)).toEqual([created[0]!.id]);
    expect(third.headers.get('Link')).toBeNull();

    const middle = await call('GET', `/auth/admin/users?q=page-${tag}&limit=2&offset=2`, { token: admin.token });
    expect(ids(middle)).toEqual([created[2]!.id, created[1]!.id]);
    expect(linkTarget(middle, 'next')).toMatch(/cursor=/);
    expect(linkTarget(middle, 'prev')).toBe(`/auth/admin/users?q=page-${tag}&limit=2&offset=0`);

    const last = await call('GET', `/auth/admin/users?q=page-${tag}&limit=2&offset=4`, { token: admin.token });
    expect(last.body).toHaveLength(1);
    expect(last.headers.get('Link')).toBe(`</auth/admin/users?q=page-${tag}&limit=2&offset=2>; rel="prev"`);

    const beyond = await call('GET', `/auth/admin/users?q=page-${tag}&limit=2&offset=50`, { token: admin.token });
    expect(beyond.body).toEqual([]);
    expect(beyond.headers.get('X-Total-Count')).toBe('5');
  });

  it('filters by q (email or full name, case-insensitive), role and is_active', async () => {
    const admin = await createUser({ role: 'admin' });
    const tag = crypto.randomUUID().slice(0, 8);
    const byName = await createUser({ fullName: `Zelda ${tag.toUpperCase()}` });
    const byEmail = await createUser({ label: `filter-${tag}` });
    const tagAdmin = await createUser({ role: 'admin', label: `filter-${tag}-admin` });
    await sql()`update users set is_active = false where id = ${byEmail.id}`;

    const ids = async (query: string) =>
      ((await call('GET', `/auth/admin/users?${query}`, { token: admin.token })).body as { id: string }[])
        .map((u) => u.id)
        .sort();

    expect(await ids(`q=${tag}`)).toEqual([byName.id, byEmail.id, tagAdmin.id].sort());
    expect(await ids(`q=zelda%20${tag}`)).toEqual([byName.id]);
    expect(await ids(`q=${tag}&role=admin`)).toEqual([tagAdmin.id]);
    expect(await ids(`q=${tag}&is_active=false`)).toEqual([byEmail.id]);
    expect(await ids(`q=${tag}&is_active=true&role=user`)).toEqual([byName.id]);
    // LIKE wildcards in q are literal characters.
    expect(await ids(`q=${encodeURIComponent('%')}${tag}`)).toEqual([]);
  });

  const badQueries = [
    'limit=0',
    'limit=101',
    'limit=abc',
    'limit=1.5',
    'offset=-1',
    'offset=x',
    'role=owner',
    'is_active=yes',
    `q=${'x'.repeat(201)}`,
    'q=%00',
  ];
  for (const query of badQueries) {
    it(`422 for ${query.slice(0, 20)}`, async () => {
      const admin = await createUser({ role: 'admin' });
      expectProblem(await call('GET', `/auth/admin/users?${query}`, { token: admin.token }), 422);
    });
  }
});

describe('GET /auth/admin/users/{id}', () => {
  it('returns one user, 404 for an unknown id, 422 for a malformed one', async () => {
    const admin = await createUser({ role: 'admin' });
    const user = await createUser({ fullName: 'Target' });
    const res = await call('GET', `/auth/admin/users/${user.id}`, { token: admin.token });
    expect(res.body).toMatchObject({ id: user.id, email: user.email, full_name: 'Target', role: 'user' });
    expect(res.text).not.toContain('hash');
    expectProblem(await call('GET', `/auth/admin/users/${crypto.randomUUID()}`, { token: admin.token }), 404);
    for (const bad of ['not-a-uuid', '123', "1'%20or%20'1'='1", '%00']) {
      expectProblem(await call('GET', `/auth/admin/users/${bad}`, { token: admin.token }), 422);
    }
  });
});

describe('PATCH /auth/admin/users/{id}/role', () => {
  it('promotes and demotes', async () => {
    const admin = await createUser({ role: 'admin' });
    const user = await createUser();
    const promoted = await call('PATCH', `/auth/admin/users/${user.id}/role`, {
      token: admin.token,
      json: { role: 'admin' },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('admin');
    // A role change ends the user's sessions and tokens: they log in again, now as an admin.
    expectProblem(await call('GET', '/auth/me', { token: user.token }), 401);
    const adminToken = await logIn(user.email, PASSWORD);
    expect((await call('GET', '/auth/admin/users', { token: adminToken })).status).toBe(200);
    const demoted = await call('PATCH', `/auth/admin/users/${user.id}/role`, {
      token: admin.token,
      json: { role: 'user' },
    });
    expect(demoted.body.role).toBe('user');
    expectProblem(await call('GET', '/auth/admin/users', { token: adminToken }), 401);
    expectProblem(await call('GET', '/auth/admin/users', { token: await logIn(user.email, PASSWORD) }), 403);
  });

  it('422 for an unknown role or a bad body, 404 for an unknown user', async () => {
    const admin = await createUser({ role: 'admin' });
    const user = await createUser();
    for (const json of [{ role: 'superuser' }, { role: null }, {}, { role: ['admin'] }, null]) {
      expectProblem(await call('PATCH', `/auth/admin/users/${user.id}/role`, { token: admin.token, json }), 422);
    }
    expectProblem(
      await call('PATCH', `/auth/admin/users/${crypto.randomUUID()}/role`, {
        token: admin.token,
        json: { role: 'admin' },
      }),
      404,
    );
    expect((await sql()`select role from users where id = ${user.id}`)[0]!.role).toBe('user');
  });
});

describe('PATCH /auth/admin/users/{id}/status', () => {
  it('deactivation locks the user out at once (tokens and sessions end); reactivation lets them log in again', async () => {
    const admin = await createUser({ role: 'admin' });
    const user = await createUser();
    const off = await call('PATCH', `/auth/admin/users/${user.id}/status`, {
      token: admin.token,
      json: { is_active: false },
    });
    expect(off.status).toBe(200);
    expect(off.body.is_active).toBe(false);
    expectProblem(await call('GET', '/auth/me', { token: user.token }), 401);
    expectProblem(await call('GET', '/projects', { token: user.token }), 401);
    expectProblem(await call('POST', '/auth/refresh', { json: { refresh_token: user.refreshToken } }), 401);
    expectProblem(await call('POST', '/auth/login', { json: { email: user.email, password: PASSWORD } }), 403);
    const live = await sql()`select count(*)::int as n from sessions where user_id = ${user.id} and revoked_at is null`;
    expect(live[0]!.n).toBe(0);

    const on = await call('PATCH', `/auth/admin/users/${user.id}/status`, {
      token: admin.token,
      json: { is_active: true },
    });
    expect(on.body.is_active).toBe(true);
    expectProblem(await call('GET', '/auth/me', { token: user.token }), 401);
    expect((await call('GET', '/auth/me', { token: await logIn(user.email, PASSWORD) })).status).toBe(200);
  });

  it('an admin cannot deactivate themselves (409), even with other admins around', async () => {
    const admin = await createUser({ role: 'admin' });
    await createUser({ role: 'admin' });
    const res = await call('PATCH', `/auth/admin/users/${admin.id}/status`, {
      token: admin.token,
      json: { is_active: false },
    });
    expectProblem(res, 409, 'self_deactivation');
    expect((await sql()`select is_active from users where id = ${admin.id}`)[0]!.is_active).toBe(true);
  });

  it('422 for a non-boolean is_active', async () => {
    const admin = await createUser({ role: 'admin' });
    const user = await createUser();
    for (const json of [{ is_active: 'false' }, { is_active: 0 }, { is_active: null }, {}]) {
      expectProblem(await call('PATCH', `/auth/admin/users/${user.id}/status`, { token: admin.token, json }), 422);
    }
  });
});
