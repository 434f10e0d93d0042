import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem, databaseTraffic } from '../support/http.ts';
import { createUser, type TestUser } from '../support/users.ts';

async function createProject(owner: TestUser, json: Record<string, unknown> = {}) {
  const res = await call('POST', '/projects', {
    token: owner.token,
    json: { name: `Project ${crypto.randomUUID().slice(0, 6)}`, ...json },
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res;
}

describe('POST /projects', () => {
  it('creates a project owned by the caller, with an ETag, in one statement and one round trip', async () => {
    const owner = await createUser();
    const res = await call('POST', '/projects', {
      token: owner.token,
      json: { name: '  Launch  ', description: 'Line one\nLine two' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      owner_id: owner.id,
      name: 'Launch',
      description: 'Line one\nLine two',
      is_active: true,
      deleted_at: null,
      version: 1,
    });
    expect(res.headers.get('ETag')).toBe('"1"');
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
  });

  it('ignores id, owner_id, is_active, version and timestamps in the body', async () => {
    const owner = await createUser();
    const other = await createUser();
    const id = crypto.randomUUID();
    const res = await call('POST', '/projects', {
      token: owner.token,
      json: {
        name: 'Mine',
        id,
        owner_id: other.id,
        is_active: false,
        version: 99,
        deleted_at: '2020-01-01T00:00:00Z',
        created_at: '2000-01-01T00:00:00Z',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ owner_id: owner.id, is_active: true, version: 1, deleted_at: null });
    expect(res.body.id).not.toBe(id);
    expect(res.body.created_at).not.toContain('2000');
  });

  const invalid: [string, unknown][] = [
    ['missing name', {}],
    ['empty name', { name: '' }],
    ['blank name', { name: '   ' }],
    ['201-character name', { name: 'n'.repeat(201) }],
    ['name as a number', { name: 7 }],
    ['name with a newline', { name: 'two\nlines' }],
    ['name with a NUL', { name: 'nul\u0000' }],
    ['5,001-character description', { name: 'ok', description: 'd'.repeat(5001) }],
    ['description as an object', { name: 'ok', description: { text: 'x' } }],
    ['description with a NUL', { name: 'ok', description: 'a\u0000b' }],
    ['null body', null],
    ['array body', []],
  ];
  for (const [name, json] of invalid) {
    it(`422 for ${name}, creating nothing`, async () => {
      const owner = await createUser();
      expectProblem(await call('POST', '/projects', { token: owner.token, json }), 422);
      expect(Number((await sql()`select count(*) from projects where owner_id = ${owner.id}`)[0]!.count)).toBe(0);
    });
  }

  it('stores client text exactly: quotes, backslashes, dollar quotes, SQL, non-ASCII', async () => {
    const owner = await createUser();
    const name = `O'Brien's \\ "plan" $$ $x$ '); drop table projects; -- \u00e9\u4e2d\u{1F680}`;
    const description = `E'\\x00' \\' ''\nline two\t\u00ff ${'\u{1F600}'.repeat(100)}`;
    const created = await createProject(owner, { name, description });
    expect(created.body).toMatchObject({ name, description });
    const [row] = await sql()`select name, description from projects where id = ${created.body.id}`;
    expect(row).toEqual({ name, description });
    const renamed = await call('PATCH', `/projects/${created.body.id}`, {
      token: owner.token,
      json: { name: description.split('\n')[0]!.trim(), description: name },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: description.split('\n')[0]!.trim(), description: name });
    const found = await call('GET', `/projects?q=${encodeURIComponent("O'Brien's \\")}`, { token: owner.token });
    expect(found.body.map((p: { id: string }) => p.id)).toEqual([]);
    const byName = await call('GET', `/projects?q=${encodeURIComponent("E'\\x00' \\'")}`, { token: owner.token });
    expect(byName.body.map((p: { id: string }) => p.id)).toEqual([created.body.id]);
  });

  it('accepts 200-character names and 5,000-character descriptions', async () => {
    const owner = await createUser();
    const res = await createProject(owner, { name: 'n'.repeat(200), description: 'd'.repeat(5000) });
    expect(res.body.name).toHaveLength(200);
  });

  it('401 without a token; 403 for a deactivated user', async () => {
    expectProblem(await call('POST', '/projects', { json: { name: 'x' } }), 401);
    const user = await createUser();
    await sql()`update users set is_active = false where id = ${user.id}`;
    expectProblem(await call('POST', '/projects', { token: user.token, json: { name: 'x' } }), 403);
  });
});

describe('GET /projects/{id}', () => {
  it('the owner and an admin read it; a non-member gets 404 (its existence is not revealed); unknown 404; malformed 422', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    const admin = await createUser({ role: 'admin' });
    const project = (await createProject(owner)).body;

    const mine = await call('GET', `/projects/${project.id}`, { token: owner.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual(project);
    expect(mine.headers.get('ETag')).toBe('"1"');
    expect(databaseTraffic(mine)).toEqual({ statements: 1, roundTrips: 1 });

    expect((await call('GET', `/projects/${project.id}`, { token: admin.token })).status).toBe(200);
    expectProblem(await call('GET', `/projects/${project.id}`, { token: stranger.token }), 404);
    expectProblem(await call('GET', `/projects/${crypto.randomUUID()}`, { token: owner.token }), 404);
    for (const bad of ['nope', '00000000-0000-0000-0000-00000000000g', '..%2F..%2Fetc', '%20', 'null', '%E2%80%AE']) {
      expectProblem(await call('GET', `/projects/${bad}`, { token: owner.token }), 422);
    }
  });

  it('a deactivated owner is refused at the auth layer; an admin still reads the project', async () => {
    const owner = await createUser();
    const admin = await createUser({ role: 'admin' });
    const project = (await createProject(owner)).body;
    await sql()`update users set is_active = false where id = ${owner.id}`;
    expectProblem(await call('GET', `/projects/${project.id}`, { token: owner.token }), 403);
    expect((await call('GET', `/projects/${project.id}`, { token: admin.token })).status).toBe(200);
    expect(
      (await call('PATCH', `/projects/${project.id}`, { token: admin.token, json: { name: 'Admin edit' } })).status,
    ).toBe(200);
  });
});

describe('PUT and PATCH /projects/{id}', () => {
  for (const method of ['PUT', 'PATCH']) {
    it(`${method} updates name and description, bumps version and ETag, in one statement and one round trip`, async () => {
      const owner = await createUser();
      const project = (await createProject(owner, { description: 'old' })).body;
      const res = await call(method, `/projects/${project.id}`, { token: owner.token, json: { name: 'Renamed' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'Renamed', description: 'old', version: 2 });
      expect(res.headers.get('ETag')).toBe('"2"');
      expect(new Date(res.body.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(project.updated_at).getTime());
      expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });

      const cleared = await call(method, `/projects/${project.id}`, {
        token: owner.token,
        json: { description: null },
      });
      expect(cleared.body).toMatchObject({ name: 'Renamed', description: null, version: 3 });
    });

    it(`${method}: a non-member gets 404 and nothing changes; an admin may`, async () => {
      const owner = await createUser();
      const stranger = await createUser();
      const admin = await createUser({ role: 'admin' });
      const project = (await createProject(owner)).body;
      expectProblem(
        await call(method, `/projects/${project.id}`, { token: stranger.token, json: { name: 'Hijacked' } }),
        404,
      );
      const [row] = await sql()`select name, version from projects where id = ${project.id}`;
      expect(row).toEqual({ name: project.name, version: 1 });
      const res = await call(method, `/projects/${project.id}`, { token: admin.token, json: { name: 'By admin' } });
      expect(res.status).toBe(200);
      expect(res.body.owner_id).toBe(owner.id);
    });

    it(`${method}: 422 for an empty body, unknown-only fields or bad values; 404 unknown; 422 malformed id`, async () => {
      const owner = await createUser();
      const project = (await createProject(owner)).body;
      for (const json of [
        {},
        { owner_id: crypto.randomUUID() },
        { is_active: false },
        { name: '' },
        { name: null },
        { name: 'x'.repeat(201) },
        { description: 5 },
        null,
      ]) {
        expectProblem(await call(method, `/projects/${project.id}`, { token: owner.token, json }), 422);
      }
      expectProblem(
        await call(method, `/projects/${crypto.randomUUID()}`, { token: owner.token, json: { name: 'x' } }),
        404,
      );
      expectProblem(await call(method, '/projects/not-an-id', { token: owner.token, json: { name: 'x' } }), 422);
      const [row] = await sql()`select owner_id, version, is_active from projects where id = ${project.id}`;
      expect(row).toEqual({ owner_id: owner.id, version: 1, is_active: true });
    });
  }
});

describe('If-Match', () => {
  it('a matching ETag succeeds; a stale one is 412 with the current ETag and changes nothing', async () => {
    const owner = await createUser();
    const project = (await createProject(owner)).body;
    const first = await call('PATCH', `/projects/${project.id}`, {
      token: owner.token,
      json: { name: 'v2' },
      headers: { 'If-Match': '"1"' },
    });
    expect(first.status).toBe(200);
    const stale = await call('PATCH', `/projects/${project.id}`, {
      token: owner.token,
      json: { name: 'lost update' },
      headers: { 'If-Match': '"1"' },
    });
    expectProblem(stale, 412);
    expect(stale.headers.get('ETag')).toBe('"2"');
    expect((await sql()`select name, version from projects where id = ${project.id}`)[0]).toEqual({
      name: 'v2',
      version: 2,
    });
  });

  it('accepts *, lists of tags; weak or garbage tags never match', async () => {
    const owner = await createUser();
    const project = (await createProject(owner)).body;
    const patch = (ifMatch: string) =>
      call('PUT', `/projects/${project.id}`, {
        token: owner.token,
        json: { description: ifMatch },
        headers: { 'If-Match': ifMatch },
      });
    expect((await patch('*')).status).toBe(200); // -> version 2
    expect((await patch('"7", "2"')).status).toBe(200); // -> version 3
    expectProblem(await patch('W/"3"'), 412);
    expectProblem(await patch('3'), 412);
    expectProblem(await patch('"abc"'), 412);
    expect((await sql()`select version from projects where id = ${project.id}`)[0]!.version).toBe(3);
  });

  it('two writers with the same ETag: exactly one wins', async () => {
    const owner = await createUser();
    const project = (await createProject(owner)).body;
    const results = await Promise.all(
      ['A', 'B', 'C'].map((name) =>
        call('PATCH', `/projects/${project.id}`, {
          token: owner.token,
          json: { name },
          headers: { 'If-Match': '"1"' },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412]);
    expect((await sql()`select version from projects where id = ${project.id}`)[0]!.version).toBe(2);
  });

  it('DELETE honours If-Match too', async () => {
    const owner = await createUser();
    const project = (await createProject(owner)).body;
    expectProblem(
      await call('DELETE', `/projects/${project.id}`, { token: owner.token, headers: { 'If-Match': '"9"' } }),
      412,
    );
    expect((await sql()`select is_active from projects where id = ${project.id}`)[0]!.is_active).toBe(true);
    expect(
      (await call('DELETE', `/projects/${project.id}`, { token: owner.token, headers: { 'If-Match': '"1"' } })).status,
    ).toBe(200);
  });

  it('without If-Match the last write wins', async () => {
    const owner = await createUser();
    const project = (await createProject(owner)).body;
    await call('PATCH', `/projects/${project.id}`, { token: owner.token, json: { name: 'first' } });
    const res = await call('PATCH', `/projects/${project.id}`, { token: owner.token, json: { name: 'second' } });
    expect(res.body).toMatchObject({ name: 'second', version: 3 });
  });
});

describe('soft delete and restore', () => {
  it('DELETE marks the project deleted, keeps the row, hides it from its owner; deleting again is 404', async () => {
    const owner = await createUser();
    const project = (await createProject(owner)).body;
    const res = await call('DELETE', `/projects/${project.id}`, { token: owner.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: project.id, is_active: false, version: 2 });
    expect(res.body.deleted_at).toEqual(expect.any(String));

    const [row] = await sql()`select is_active, deleted_at from projects where id = ${project.id}`;
    expect(row!.is_active).toBe(false);
    expect(row!.deleted_at).toBeInstanceOf(Date);

    expectProblem(await call('GET', `/projects/${project.id}`, { token: owner.token }), 404);
    expectProblem(await call('PATCH', `/projects/${project.id}`, { token: owner.token, json: { name: 'x' } }), 404);
    expectProblem(await call('DELETE', `/projects/${project.id}`, { token: owner.token }), 404);
    const list = await call('GET', '/projects', { token: owner.token });
    expect(list.body.map((p: { id: string }) => p.id)).not.toContain(project.id);
  });

  it('a non-member cannot delete or see the project, deleted or not (404)', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    const project = (await createProject(owner)).body;
    expectProblem(await call('DELETE', `/projects/${project.id}`, { token: stranger.token }), 404);
    expect((await sql()`select is_active from projects where id = ${project.id}`)[0]!.is_active).toBe(true);
    await call('DELETE', `/projects/${project.id}`, { token: owner.token });
    expectProblem(await call('GET', `/projects/${project.id}`, { token: stranger.token }), 404);
  });

  it("an admin deletes anyone's project and can still read it", async () => {
    const owner = await createUser();
    const admin = await createUser({ role: 'admin' });
    const project = (await createProject(owner)).body;
    expect((await call('DELETE', `/projects/${project.id}`, { token: admin.token })).status).toBe(200);
    const read = await call('GET', `/projects/${project.id}`, { token: admin.token });
    expect(read.status).toBe(200);
    expect(read.body.is_active).toBe(false);
  });

  it('restore undoes the delete for the owner or an admin; non-members 404; an active project 409', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    const admin = await createUser({ role: 'admin' });
    const project = (await createProject(owner)).body;
    expectProblem(await call('POST', `/projects/${project.id}/restore`, { token: owner.token }), 409);
    await call('DELETE', `/projects/${project.id}`, { token: owner.token });
    expectProblem(await call('POST', `/projects/${project.id}/restore`, { token: stranger.token }), 404);

    const restored = await call('POST', `/projects/${project.id}/restore`, { token: owner.token });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ is_active: true, deleted_at: null, version: 3 });
    expect((await call('GET', `/projects/${project.id}`, { token: owner.token })).status).toBe(200);

    await call('DELETE', `/projects/${project.id}`, { token: owner.token });
    expect((await call('POST', `/projects/${project.id}/restore`, { token: admin.token })).status).toBe(200);
    expectProblem(await call('POST', `/projects/${crypto.randomUUID()}/restore`, { token: admin.token }), 404);
  });
});
