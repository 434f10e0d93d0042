import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem, linkTarget, type ApiResponse } from '../support/http.ts';
import { createUser, type TestUser } from '../support/users.ts';

/** The list contract (lib/pagination.ts), the same on every list. */

/** Projects owned by `owner`, inserted directly (as many as a test needs), with `createdAt` for each. */
async function seedOwnedProjects(
  owner: TestUser,
  count: number,
  options: { createdAt?: (index: number) => string; name?: (index: number) => string } = {},
) {
  const rows = Array.from({ length: count }, (_, index) => ({
    id: crypto.randomUUID(),
    owner_id: owner.id,
    name: options.name?.(index) ?? `Seeded ${index}`,
    created_at: options.createdAt?.(index) ?? new Date(Date.UTC(2020, 0, 1) + index * 1000).toISOString(),
  }));
  await sql()`insert into projects ${sql()(rows, 'id', 'owner_id', 'name', 'created_at')}`;
  await sql()`insert into project_members (project_id, user_id, role, project_created_at, added_by)
              select id, owner_id, 'owner', created_at, owner_id from projects where id in ${sql()(rows.map((row) => row.id))}`;
  return rows;
}

async function walk(first: ApiResponse, token: string) {
  const seen: string[] = [];
  let page: ApiResponse | undefined = first;
  while (page) {
    expect(page.status, page.text).toBe(200);
    seen.push(...page.body.map((item: { id?: string; user_id?: string }) => item.id ?? item.user_id));
    const next = linkTarget(page, 'next');
    page = next ? await call('GET', next, { token }) : undefined;
  }
  return seen;
}

describe('keyset pages', () => {
  it('walk every row exactly once in order, through ties on the sort column (microsecond timestamps, equal names)', async () => {
    const owner = await createUser();
    // Four projects share each timestamp, to the microsecond; names repeat too.
    const rows = await seedOwnedProjects(owner, 23, {
      createdAt: (index) => `2021-06-01T12:00:00.${String(Math.floor(index / 4)).padStart(6, '0')}Z`,
      name: (index) => `Same ${index % 3}`,
    });
    for (const sort of ['-created_at', 'created_at', 'name', '-name', 'updated_at']) {
      const all = await call('GET', `/projects?limit=100&sort=${sort}`, { token: owner.token });
      const walked = await walk(
        await call('GET', `/projects?limit=4&sort=${sort}`, { token: owner.token }),
        owner.token,
      );
      expect(walked, sort).toEqual(all.body.map((project: { id: string }) => project.id));
      expect(new Set(walked).size).toBe(rows.length);
    }
  });

  it('stay stable while rows are added in front: no row twice, none skipped', async () => {
    const owner = await createUser();
    const rows = await seedOwnedProjects(owner, 6);
    const first = await call('GET', '/projects?limit=3', { token: owner.token });
    await call('POST', '/projects', { token: owner.token, json: { name: 'Newest' } });
    const second = await call('GET', linkTarget(first, 'next')!, { token: owner.token });
    const listed = [...first.body, ...second.body].map((project: { id: string }) => project.id);
    expect(listed).toEqual([...rows].reverse().map((row) => row.id));
    expect(databaseTraffic(second)).toEqual({ statements: 1, roundTrips: 1 });
  });

  it('refuse a cursor with an offset, a cursor from another order, and anything that is not a cursor (422)', async () => {
    const owner = await createUser();
    await seedOwnedProjects(owner, 3);
    const first = await call('GET', '/projects?limit=1', { token: owner.token });
    const cursor = new URLSearchParams(linkTarget(first, 'next')!.split('?')[1]).get('cursor')!;
    expect((await call('GET', `/projects?cursor=${cursor}`, { token: owner.token })).status).toBe(200);
    const refused = [
      `/projects?cursor=${cursor}&offset=1`,
      `/projects?cursor=${cursor}&sort=name`,
      '/projects?cursor=garbage',
      '/projects?cursor=e30',
      `/projects?cursor=${'A'.repeat(2000)}`,
      '/projects?cursor=%2B%2F',
      `/projects?cursor=${btoa(JSON.stringify({ s: 'projects:-created_at', k: ['yesterday', crypto.randomUUID()] })).replace(/=+$/, '')}`,
      `/projects?cursor=${btoa(JSON.stringify({ s: 'projects:-created_at', k: ['2021-01-01 00:00:00+00', 'not-a-uuid'] })).replace(/=+$/, '')}`,
    ];
    for (const path of refused) expectProblem(await call('GET', path, { token: owner.token }), 422);
    const admin = await createUser({ role: 'admin' });
    expectProblem(await call('GET', `/auth/admin/users?cursor=${cursor}`, { token: admin.token }), 422);
  });
});

describe('cursors of every list', () => {
  const NAMES = ['日本 project', '🚀 launch', 'Zoë', 'e\u0301clair', '한국어', 'Ελληνικά', 'Ωmega 👩‍💻', 'Ünïcode'];

  it('carry sort keys in any script: CJK, emoji and combining marks page by name both ways, for owners and admins', async () => {
    const owner = await createUser();
    const admin = await createUser({ role: 'admin' });
    await seedOwnedProjects(owner, NAMES.length, { name: (index) => NAMES[index]! });
    for (const sort of ['name', '-name']) {
      const all = await call('GET', `/projects?limit=100&sort=${sort}`, { token: owner.token });
      expect(
        await walk(await call('GET', `/projects?limit=1&sort=${sort}`, { token: owner.token }), owner.token),
      ).toEqual(all.body.map((project: { id: string }) => project.id));
      const adminWalk = await walk(
        await call('GET', `/projects?limit=1&sort=${sort}&owner_id=${owner.id}`, { token: admin.token }),
        admin.token,
      );
      expect(adminWalk).toHaveLength(NAMES.length);
    }
  });

  it('are signed and bound to their query on every list: changed by hand, or taken to another query, they are a 422', async () => {
    const owner = await createUser();
    await seedOwnedProjects(owner, 3, { name: (index) => NAMES[index]! });
    const other = await createUser();
    const lists = [
      { path: '/projects?limit=1&sort=name', elsewhere: '/projects?limit=1&sort=name&q=x' },
      { path: '/projects?limit=1', elsewhere: '/projects?limit=1&role=owner' },
      { path: '/auth/sessions?limit=1', elsewhere: '/auth/sessions?limit=1&unknown=1' },
    ];
    // Two sessions, so the session list has a second page.
    await call('POST', '/auth/login', { json: { email: owner.email, password: owner.password } });
    for (const list of lists) {
      const first = await call('GET', list.path, { token: owner.token });
      const cursor = new URLSearchParams(linkTarget(first, 'next')!.split('?')[1]).get('cursor')!;
      expect((await call('GET', `${list.path}&cursor=${cursor}`, { token: owner.token })).status).toBe(200);
      // The sort key is readable, but changing it (here, the last character of the payload) breaks the MAC.
      const decoded = JSON.parse(
        new TextDecoder().decode(
          Uint8Array.from(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
        ),
      );
      decoded.k[0] = `${decoded.k[0]}!`;
      const forged = btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(decoded))))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
      expectProblem(await call('GET', `${list.path}&cursor=${forged}`, { token: owner.token }), 422);
      expectProblem(await call('GET', `${list.elsewhere}&cursor=${cursor}`, { token: owner.token }), 422);
    }
    // Another project's member list: the path binds it too.
    const a = await call('POST', '/projects', { token: owner.token, json: { name: 'A' } });
    const b = await call('POST', '/projects', { token: owner.token, json: { name: 'B' } });
    for (const project of [a.body.id, b.body.id]) {
      await sql()`insert into project_members (project_id, user_id, role, project_created_at)
                  select id, ${other.id}, 'viewer', created_at from projects where id = ${project}`;
    }
    const members = await call('GET', `/projects/${a.body.id}/members?limit=1`, { token: owner.token });
    const cursor = new URLSearchParams(linkTarget(members, 'next')!.split('?')[1]).get('cursor')!;
    expect(
      (await call('GET', `/projects/${a.body.id}/members?limit=1&cursor=${cursor}`, { token: owner.token })).status,
    ).toBe(200);
    expectProblem(
      await call('GET', `/projects/${b.body.id}/members?limit=1&cursor=${cursor}`, { token: owner.token }),
      422,
    );
  });
});

describe('counts', () => {
  it(`are exact up to 1,000; beyond, X-Total-Count is left out and X-Total-Count-Exceeds says so`, async () => {
    const owner = await createUser();
    await seedOwnedProjects(owner, 1000);
    const exact = await call('GET', '/projects?limit=5', { token: owner.token });
    expect(exact.headers.get('X-Total-Count')).toBe('1000');
    expect(exact.headers.get('X-Total-Count-Exceeds')).toBeNull();
    await seedOwnedProjects(owner, 1);
    const capped = await call('GET', '/projects?limit=5', { token: owner.token });
    expect(capped.headers.get('X-Total-Count')).toBeNull();
    expect(capped.headers.get('X-Total-Count-Exceeds')).toBe('1000');
    expect(capped.body).toHaveLength(5);
    expect(databaseTraffic(capped)).toEqual({ statements: 1, roundTrips: 1 });
    // A search narrows the count back under the cap.
    const narrowed = await call('GET', '/projects?q=Seeded%2099', { token: owner.token });
    expect(narrowed.headers.get('X-Total-Count')).toBe('11');
  });
});
