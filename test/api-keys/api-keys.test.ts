import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app.ts';
import { sha256Hex } from '../../src/lib/secrets.ts';
import { SCOPES, withChecksum } from '../../src/lib/api-keys.ts';
import { call, callWithConfig, databaseTraffic, expectProblem, withClientAddress, BASE_URL } from '../support/http.ts';
import { sql } from '../support/db.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createUser, PASSWORD } from '../support/users.ts';
import { daysAhead, insertKey, makeKey, mistyped } from './support.ts';

const KEY_FORMAT = /^afk_[0-9A-Za-z]{97}$/;

describe('making, listing and revoking keys', () => {
  it('answers the key once, in its format, and keeps only its SHA-256 digest', async () => {
    const user = await createUser();
    const made = await call('POST', '/auth/api-keys', {
      token: user.token,
      json: { name: 'CI', scopes: ['projects:read', 'tasks:write'], max_role: 'editor', expires_at: daysAhead(90) },
    });
    expect(made.status, made.text).toBe(201);
    expect(made.body.key).toMatch(KEY_FORMAT);
    expect(made.headers.get('Cache-Control')).toBe('no-store');
    expect(made.body).toMatchObject({
      name: 'CI',
      scopes: ['projects:read', 'tasks:write'],
      project_ids: null,
      max_role: 'editor',
      last_used_at: null,
      revoked_at: null,
    });
    expect(made.body.prefix).toBe(made.body.key.slice(0, 12));
    const [row] = await sql()`select * from api_keys where id = ${made.body.id}`;
    expect(row!.key_hash).toBe(await sha256Hex(made.body.key));
    expect(JSON.stringify(row)).not.toContain(made.body.key.slice(12));

    const listed = await call('GET', '/auth/api-keys', { token: user.token });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('X-Total-Count')).toBe('1');
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0].id).toBe(made.body.id);
    expect(listed.body[0]).not.toHaveProperty('key');
    expect(listed.text).not.toContain(made.body.key.slice(12));

    const [event] =
      await sql()`select * from audit_events where entity_id = ${made.body.id} and action = 'api_key.create'`;
    expect(event).toMatchObject({ actor_id: user.id, credential: 'session', api_key_id: null });
    expect(JSON.stringify(event!.changes)).not.toContain(made.body.key.slice(12));
  });

  it('pages a user’s keys newest first, on the list contract', async () => {
    const user = await createUser();
    for (let index = 0; index < 3; index++) await makeKey(user, { scopes: ['tasks:read'], name: `key ${index}` });
    const first = await call('GET', '/auth/api-keys?limit=2', { token: user.token });
    expect(first.body.map((key: { name: string }) => key.name)).toEqual(['key 2', 'key 1']);
    expect(first.headers.get('X-Total-Count')).toBe('3');
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('Link') ?? '')![1]!;
    const second = await call('GET', next.replace(BASE_URL, ''), { token: user.token });
    expect(second.body.map((key: { name: string }) => key.name)).toEqual(['key 0']);
  });

  it('revokes at once: the next request with the key is a 401, and a second revocation changes nothing', async () => {
    const user = await createUser();
    const { key, id } = await makeKey(user, { scopes: ['projects:read'] });
    expect((await call('GET', '/projects', { token: key })).status).toBe(200);
    const revoked = await call('DELETE', `/auth/api-keys/${id}`, { token: user.token });
    expect(revoked.status).toBe(204);
    expectProblem(await call('GET', '/projects', { token: key }), 401, 'token_invalid');
    expect((await call('DELETE', `/auth/api-keys/${id}`, { token: user.token })).status).toBe(204);
    const events = await sql()`select actor_id from audit_events where entity_id = ${id} and action = 'api_key.revoke'`;
    expect(events).toEqual([{ actor_id: user.id }]);
    const [row] = await sql()`select revoked_at from api_keys where id = ${id}`;
    expect(row!.revoked_at).not.toBeNull();
  });

  it('refuses to revoke another user’s key (404) and leaves it working', async () => {
    const [owner, other] = await Promise.all([createUser(), createUser()]);
    const { key, id } = await makeKey(owner, { scopes: ['projects:read'] });
    expectProblem(await call('DELETE', `/auth/api-keys/${id}`, { token: other.token }), 404, 'not_found');
    expect((await call('GET', '/projects', { token: key })).status).toBe(200);
  });

  it('lets admins list and revoke any user’s keys, and no one else', async () => {
    const [user, admin, other] = await Promise.all([createUser(), createUser({ role: 'admin' }), createUser()]);
    const { key, id } = await makeKey(user, { scopes: ['tasks:read'] });
    expectProblem(
      await call('GET', `/auth/admin/users/${user.id}/api-keys`, { token: other.token }),
      403,
      'role_required',
    );
    expectProblem(
      await call('DELETE', `/auth/admin/users/${user.id}/api-keys/${id}`, { token: other.token }),
      403,
      'role_required',
    );
    const listed = await call('GET', `/auth/admin/users/${user.id}/api-keys`, { token: admin.token });
    expect(listed.body.map((row: { id: string }) => row.id)).toEqual([id]);
    expectProblem(
      await call('GET', `/auth/admin/users/${crypto.randomUUID()}/api-keys`, { token: admin.token }),
      404,
      'not_found',
    );
    expectProblem(
      await call('DELETE', `/auth/admin/users/${other.id}/api-keys/${id}`, { token: admin.token }),
      404,
      'not_found',
    );
    expect((await call('DELETE', `/auth/admin/users/${user.id}/api-keys/${id}`, { token: admin.token })).status).toBe(
      204,
    );
    expectProblem(await call('GET', '/tasks?assignee=me', { token: key }), 401, 'token_invalid');
    const [event] =
      await sql()`select actor_id from audit_events where entity_id = ${id} and action = 'api_key.revoke'`;
    expect(event!.actor_id).toBe(admin.id);
  });

  it('caps a user’s live keys, even when the requests race', async () => {
    const user = await createUser();
    const overrides = { MAX_API_KEYS: '3' };
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        callWithConfig(
          overrides,
          'POST',
          '/auth/api-keys',
          { Authorization: `Bearer ${user.token}` },
          {
            json: { name: `race ${index}`, scopes: ['tasks:read'], expires_at: daysAhead(1) },
          },
        ),
      ),
    );
    expect(attempts.filter((res) => res.status === 201)).toHaveLength(3);
    for (const refused of attempts.filter((res) => res.status !== 201)) {
      expectProblem(refused, 409, 'api_key_limit_reached');
    }
    const [{ count }] = (await sql()`select count(*)::int as count from api_keys where user_id = ${user.id}`) as [
      { count: number },
    ];
    expect(count).toBe(3);
  });
});

describe('refused requests to make a key change nothing', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['an expiry in the past', { expires_at: daysAhead(-1) }, 'expires_at'],
    ['an expiry over a year ahead', { expires_at: daysAhead(367) }, 'expires_at'],
    ['an expiry that is not a timestamp', { expires_at: 'next tuesday' }, 'expires_at'],
    ['no expiry', { expires_at: undefined }, 'expires_at'],
    ['a scope outside the list', { scopes: ['tasks:delete'] }, 'scopes.0'],
    ['no scope', { scopes: [] }, 'scopes'],
    ['a repeated scope', { scopes: ['tasks:read', 'tasks:read'] }, 'scopes'],
    ['a role cap of owner', { max_role: 'owner' }, 'max_role'],
    ['project ids that are not UUIDs', { project_ids: ['1'] }, 'project_ids.0'],
    ['an empty name', { name: ' ' }, 'name'],
    ['a name with control characters', { name: 'ci\u0007' }, 'name'],
  ];
  for (const [what, change, path] of cases) {
    it(`${what}: 422 at ${path}`, async () => {
      const user = await createUser();
      const res = await call('POST', '/auth/api-keys', {
        token: user.token,
        json: { name: 'k', scopes: ['tasks:read'], expires_at: daysAhead(1), ...change },
      });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors.map((error: { path: string }) => error.path)).toContain(`body.${path}`);
      expect(await sql()`select 1 from api_keys where user_id = ${user.id}`).toHaveLength(0);
    });
  }

  it('a user asking for the admin scope: 422', async () => {
    const user = await createUser();
    const res = await call('POST', '/auth/api-keys', {
      token: user.token,
      json: { name: 'k', scopes: ['admin'], expires_at: daysAhead(1) },
    });
    expectProblem(res, 422, 'validation_failed');
    expect(res.body.errors[0].path).toBe('body.scopes');
    expect(await sql()`select 1 from api_keys where user_id = ${user.id}`).toHaveLength(0);
  });

  it('projects the owner cannot see: 422, the same whichever they are', async () => {
    const [user, other] = await Promise.all([createUser(), createUser()]);
    const mine = await createProjectWithMembers(user);
    const theirs = await createProjectWithMembers(other);
    const unknown = crypto.randomUUID();
    const details = [];
    for (const projectIds of [[mine.id, theirs.id], [unknown], [theirs.id]]) {
      const res = await call('POST', '/auth/api-keys', {
        token: user.token,
        json: { name: 'k', scopes: ['tasks:read'], project_ids: projectIds, expires_at: daysAhead(1) },
      });
      expectProblem(res, 422, 'validation_failed');
      details.push(JSON.stringify(res.body.errors));
      expect(res.text).not.toContain(theirs.id);
      expect(res.text).not.toContain(unknown);
    }
    expect(new Set(details).size).toBe(1);
    expect(await sql()`select 1 from api_keys where user_id = ${user.id}`).toHaveLength(0);
  });

  it('the admin scope limited to projects: 422', async () => {
    const admin = await createUser({ role: 'admin' });
    const project = await createProjectWithMembers(admin);
    const res = await call('POST', '/auth/api-keys', {
      token: admin.token,
      json: { name: 'k', scopes: ['admin'], project_ids: [project.id], expires_at: daysAhead(1) },
    });
    expectProblem(res, 422, 'validation_failed');
  });
});

describe('a key authenticates', () => {
  it('as its user, on the routes a session uses, and describes itself', async () => {
    const user = await createUser();
    const project = await createProjectWithMembers(user);
    const { key, id } = await makeKey(user, { scopes: ['projects:read'], project_ids: [project.id], name: 'reader' });
    const me = await call('GET', '/auth/me', { token: key });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.id);
    const credential = await call('GET', '/auth/credential', { token: key });
    expect(credential.body).toMatchObject({
      kind: 'api_key',
      user_id: user.id,
      api_key_id: id,
      name: 'reader',
      scopes: ['projects:read'],
      project_ids: [project.id],
      max_role: null,
    });
    const session = await call('GET', '/auth/credential', { token: user.token });
    expect(session.body).toMatchObject({ kind: 'session', user_id: user.id, api_key_id: null });
    expect(session.body.scopes).toEqual(SCOPES.filter((scope) => scope !== 'admin'));
  });

  it('in one statement and one round trip, like a session', async () => {
    const user = await createUser();
    const project = await createProjectWithMembers(user);
    const { key } = await makeKey(user, { scopes: ['tasks:read'], project_ids: [project.id] });
    for (const path of ['/auth/me', `/projects/${project.id}/tasks`]) {
      const res = await call('GET', path, { token: key });
      expect(res.status).toBe(200);
      expect(databaseTraffic(res)).toMatchObject({ statements: 1, roundTrips: 1 });
    }
  });

  it('refuses a mistyped, truncated or foreign-prefixed key with a 401 before any database work', async () => {
    const user = await createUser();
    const { key } = await makeKey(user, { scopes: ['projects:read'] });
    for (const bad of [mistyped(key), key.slice(0, -1), `afx_${key.slice(4)}`, `${key}0`, 'afk_', 'afk_!']) {
      const res = await call('GET', '/projects', { token: bad });
      expectProblem(res, 401, 'token_invalid');
      expect(res.headers.get('WWW-Authenticate')).toContain('invalid_token');
      expect(databaseTraffic(res).statements).toBe(0);
    }
  });

  it('refuses a key whose every part is well-formed but whose secret is not the one issued', async () => {
    const user = await createUser();
    const { key } = await makeKey(user, { scopes: ['projects:read'] });
    // The same key id, user and grant, another secret, a valid checksum: only the digest tells it apart.
    const forged = withChecksum(key.slice(0, 4 + 48) + 'A'.repeat(43));
    expect(forged).not.toBe(key);
    expectProblem(await call('GET', '/projects', { token: forged }), 401, 'token_invalid');
    // And its use is not recorded as the real key's.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [row] = await sql()`select last_used_at from api_keys where user_id = ${user.id}`;
    expect(row!.last_used_at).toBeNull();
  });

  it('refuses an expired key and a deactivated owner’s keys (which the deactivation revoked)', async () => {
    const [user, admin] = await Promise.all([createUser(), createUser({ role: 'admin' })]);
    const expiring = await makeKey(user, { scopes: ['projects:read'] });
    await sql()`update api_keys set expires_at = now() - interval '1 second' where id = ${expiring.id}`;
    expectProblem(await call('GET', '/projects', { token: expiring.key }), 401, 'token_invalid');

    const live = await makeKey(user, { scopes: ['projects:read'] });
    const deactivated = await call('PATCH', `/auth/admin/users/${user.id}/status`, {
      token: admin.token,
      json: { is_active: false },
    });
    expect(deactivated.status).toBe(200);
    expectProblem(await call('GET', '/projects', { token: live.key }), 401, 'token_invalid');
    const [row] = await sql()`select revoked_at from api_keys where id = ${live.id}`;
    expect(row!.revoked_at).not.toBeNull();
    // Reactivated, the account starts without them.
    await call('PATCH', `/auth/admin/users/${user.id}/status`, { token: admin.token, json: { is_active: true } });
    expectProblem(await call('GET', '/projects', { token: live.key }), 401, 'token_invalid');
  });

  it('refuses a key of an account deactivated behind the API’s back (403)', async () => {
    const user = await createUser();
    const key = await insertKey(user.id, ['projects:read']);
    await sql()`update users set is_active = false where id = ${user.id}`;
    expectProblem(await call('GET', '/projects', { token: key }), 403, 'account_inactive');
  });

  it('is never taken by the session and key routes (403 credential_not_allowed), and changes nothing there', async () => {
    const user = await createUser();
    const { key, id } = await makeKey(user, { scopes: [...SCOPES].filter((scope) => scope !== 'admin') });
    const requests: [string, string, unknown?][] = [
      ['POST', '/auth/api-keys', { name: 'k', scopes: ['tasks:read'], expires_at: daysAhead(1) }],
      ['GET', '/auth/api-keys'],
      ['DELETE', `/auth/api-keys/${id}`],
      ['GET', `/auth/admin/users/${user.id}/api-keys`],
      ['DELETE', `/auth/admin/users/${user.id}/api-keys/${id}`],
      ['GET', '/auth/sessions'],
      ['DELETE', `/auth/sessions/${crypto.randomUUID()}`],
      ['POST', '/auth/logout-all'],
      ['POST', '/auth/me/password', { current_password: PASSWORD, new_password: 'another long passphrase 42' }],
    ];
    for (const [method, path, json] of requests) {
      expectProblem(await call(method, path, { token: key, json }), 403, 'credential_not_allowed');
    }
    const [row] = await sql()`select revoked_at from api_keys where id = ${id}`;
    expect(row!.revoked_at).toBeNull();
    expect((await sql()`select 1 from api_keys where user_id = ${user.id}`).length).toBe(1);
    expect((await call('GET', '/auth/me', { token: key })).status).toBe(200);
    // logout and refresh take a refresh token in the body, never a bearer credential.
    expectProblem(await call('POST', '/auth/refresh', { json: { refresh_token: key } }), 401);
  });

  it('needs the scope of the action (403 scope_required naming it), before any database work', async () => {
    const user = await createUser();
    const project = await createProjectWithMembers(user);
    const { key } = await makeKey(user, { scopes: ['projects:read'] });
    const refused = await call('POST', `/projects/${project.id}/tasks`, { token: key, json: { title: 'No' } });
    expectProblem(refused, 403, 'scope_required');
    expect(refused.body.detail).toContain('tasks:write');
    expect(databaseTraffic(refused).statements).toBe(0);
    expectProblem(await call('PATCH', '/auth/me', { token: key, json: { full_name: 'X' } }), 403, 'scope_required');
    expect(await sql()`select 1 from tasks where project_id = ${project.id}`).toHaveLength(0);
  });
});

describe('a key never acts beyond its grant or its owner', () => {
  it('reaches only its projects: any other is 404, and lists show only those', async () => {
    const user = await createUser();
    const [inside, outside] = await Promise.all([
      createProjectWithMembers(user, [], 'Inside'),
      createProjectWithMembers(user, [], 'Outside'),
    ]);
    const { key } = await makeKey(user, {
      scopes: ['projects:read', 'tasks:read', 'tasks:write'],
      project_ids: [inside.id],
    });
    expect((await call('GET', `/projects/${inside.id}`, { token: key })).status).toBe(200);
    expectProblem(await call('GET', `/projects/${outside.id}`, { token: key }), 404, 'not_found');
    expectProblem(
      await call('POST', `/projects/${outside.id}/tasks`, { token: key, json: { title: 'Nope' } }),
      404,
      'not_found',
    );
    const listed = await call('GET', '/projects?limit=100', { token: key });
    expect(listed.body.map((project: { id: string }) => project.id)).toEqual([inside.id]);
    await call('POST', `/projects/${outside.id}/tasks`, {
      token: user.token,
      json: { title: 'Mine', assignee_id: user.id },
    });
    await call('POST', `/projects/${inside.id}/tasks`, {
      token: user.token,
      json: { title: 'In', assignee_id: user.id },
    });
    const mine = await call('GET', '/tasks?assignee=me&limit=100', { token: key });
    expect(mine.body.map((task: { title: string }) => task.title)).toEqual(['In']);
  });

  it('lists and accepts only invitations to its projects', async () => {
    const [user, other] = await Promise.all([createUser(), createUser()]);
    await sql()`update users set email_verified_at = now() where id = ${user.id}`;
    const [inside, outside] = await Promise.all([
      createProjectWithMembers(user, [], 'Inside'),
      createProjectWithMembers(other, [], 'Outside'),
    ]);
    const [invited] = await sql()`insert into invitations (project_id, email, role, token_hash, expires_at)
                                  values (${outside.id}, ${user.email}, 'viewer', md5(random()::text), now() + interval '1 day')
                                  returning id`;
    const { key } = await makeKey(user, { scopes: ['members:read', 'members:write'], project_ids: [inside.id] });
    expect((await call('GET', '/invitations', { token: key })).body).toEqual([]);
    expect((await call('GET', '/invitations', { token: user.token })).body.map((i: { id: string }) => i.id)).toEqual([
      invited!.id,
    ]);
    expectProblem(await call('POST', `/invitations/${invited!.id}/accept`, { token: key }), 404, 'not_found');
    expect(
      await sql()`select 1 from project_members where project_id = ${outside.id} and user_id = ${user.id}`,
    ).toEqual([]);
  });

  it('acts with at most its role cap', async () => {
    const user = await createUser();
    const project = await createProjectWithMembers(user);
    const { key } = await makeKey(user, {
      scopes: ['projects:read', 'projects:write', 'tasks:write'],
      max_role: 'editor',
    });
    const read = await call('GET', `/projects/${project.id}`, { token: key });
    expect(read.body.my_role).toBe('editor');
    const listed = await call('GET', '/projects?role=owner', { token: key });
    expect(listed.body).toEqual([]);
    expectProblem(
      await call('PATCH', `/projects/${project.id}`, { token: key, json: { name: 'Renamed' } }),
      403,
      'project_role_required',
    );
    expect((await call('POST', `/projects/${project.id}/tasks`, { token: key, json: { title: 'Ok' } })).status).toBe(
      201,
    );
  });

  it('follows its owner’s standing at once: a demotion, then a removal', async () => {
    const [owner, editor] = await Promise.all([createUser(), createUser()]);
    const project = await createProjectWithMembers(owner, [[editor, 'editor']]);
    const { key } = await makeKey(editor, { scopes: ['tasks:write', 'tasks:read'] });
    expect((await call('POST', `/projects/${project.id}/tasks`, { token: key, json: { title: 'A' } })).status).toBe(
      201,
    );
    await call('PATCH', `/projects/${project.id}/members/${editor.id}`, {
      token: owner.token,
      json: { role: 'viewer' },
    });
    expectProblem(
      await call('POST', `/projects/${project.id}/tasks`, { token: key, json: { title: 'B' } }),
      403,
      'project_role_required',
    );
    await call('DELETE', `/projects/${project.id}/members/${editor.id}`, { token: owner.token });
    expectProblem(await call('GET', `/projects/${project.id}/tasks`, { token: key }), 404, 'not_found');
  });

  it('uses an admin’s powers only with the admin scope, and only while its owner is an admin', async () => {
    const [admin, other, spare] = await Promise.all([
      createUser({ role: 'admin' }),
      createUser(),
      createUser({ role: 'admin' }),
    ]);
    const project = await createProjectWithMembers(other);
    const plain = await makeKey(admin, { scopes: ['projects:read'] });
    expectProblem(await call('GET', `/projects/${project.id}`, { token: plain.key }), 404, 'not_found');
    expectProblem(await call('GET', '/auth/admin/users', { token: plain.key }), 403, 'scope_required');
    const powerful = await makeKey(admin, { scopes: ['admin', 'projects:read'] });
    expect((await call('GET', `/projects/${project.id}`, { token: powerful.key })).body.my_role).toBe('admin');
    expect((await call('GET', '/auth/admin/users', { token: powerful.key })).status).toBe(200);
    await call('PATCH', `/auth/admin/users/${admin.id}/role`, { token: spare.token, json: { role: 'user' } });
    expectProblem(await call('GET', '/auth/admin/users', { token: powerful.key }), 403, 'role_required');
    expectProblem(await call('GET', `/projects/${project.id}`, { token: powerful.key }), 404, 'not_found');
  });
});

describe('ending keys', () => {
  it('logout-all ends keys only when asked; a password change never does', async () => {
    const user = await createUser();
    const { key } = await makeKey(user, { scopes: ['projects:read'] });
    const changed = await call('POST', '/auth/me/password', {
      token: user.token,
      json: { current_password: PASSWORD, new_password: 'a different long passphrase 7' },
    });
    expect(changed.status, changed.text).toBe(204);
    expect((await call('GET', '/projects', { token: key })).status).toBe(200);

    const session = await call('POST', '/auth/login', {
      json: { email: user.email, password: 'a different long passphrase 7' },
    });
    const token = session.body.access_token;
    expect((await call('POST', '/auth/logout-all', { token })).status).toBe(204);
    expect((await call('GET', '/projects', { token: key })).status).toBe(200);

    const again = await call('POST', '/auth/login', {
      json: { email: user.email, password: 'a different long passphrase 7' },
    });
    const ended = await call('POST', '/auth/logout-all', {
      token: again.body.access_token,
      json: { include_api_keys: true },
    });
    expect(ended.status).toBe(204);
    expectProblem(await call('GET', '/projects', { token: key }), 401, 'token_invalid');
    expectProblem(await call('GET', '/projects', { token: again.body.access_token }), 401, 'token_invalid');
    const events = await sql()`select 1 from audit_events where actor_id = ${user.id} and action = 'api_key.revoke'`;
    expect(events).toHaveLength(1);
  });

  it('refuses a logout-all body that is not the documented one', async () => {
    const user = await createUser();
    expectProblem(
      await call('POST', '/auth/logout-all', { token: user.token, json: { include_api_keys: 'yes' } }),
      422,
      'validation_failed',
    );
    expect((await call('GET', '/auth/me', { token: user.token })).status).toBe(200);
  });
});

describe('what a key leaves behind', () => {
  it('every audit event names the credential that acted', async () => {
    const user = await createUser();
    const { key, id } = await makeKey(user, { scopes: ['projects:write'] });
    const bySession = await call('POST', '/projects', { token: user.token, json: { name: 'By session' } });
    const byKey = await call('POST', '/projects', { token: key, json: { name: 'By key' } });
    const events = await sql()`select entity_id, credential, api_key_id from audit_events
                               where action = 'project.create' and entity_id in (${bySession.body.id}, ${byKey.body.id})`;
    expect(events).toEqual(
      expect.arrayContaining([
        { entity_id: bySession.body.id, credential: 'session', api_key_id: null },
        { entity_id: byKey.body.id, credential: 'api_key', api_key_id: id },
      ]),
    );
    const activity = await call('GET', `/projects/${byKey.body.id}/activity`, { token: user.token });
    expect(activity.body[0].credential).toEqual({ kind: 'api_key', api_key_id: id });
  });

  it('records its last use at most a minute stale, without a write per request', async () => {
    const user = await createUser();
    const { key, id } = await makeKey(user, { scopes: ['projects:read'] });
    await call('GET', '/projects', { token: key, headers: { 'CF-Connecting-IP': '2001:db8::77' } });
    await vi.waitFor(
      async () => {
        const [row] = await sql()`select last_used_at, last_used_ip from api_keys where id = ${id}`;
        expect(row!.last_used_at).not.toBeNull();
        expect(row!.last_used_ip).toBe('2001:db8::77');
      },
      { timeout: 5000, interval: 50 },
    );
    const [first] = await sql()`select last_used_at from api_keys where id = ${id}`;
    await call('GET', '/projects', { token: key, headers: { 'CF-Connecting-IP': '2001:db8::78' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [second] = await sql()`select last_used_at, last_used_ip from api_keys where id = ${id}`;
    expect(second!.last_used_at).toEqual(first!.last_used_at);
    expect(second!.last_used_ip).toBe('2001:db8::77');
  });

  it('writes no key material into the logs', async () => {
    const user = await createUser();
    const lines: string[] = [];
    const spies = (['log', 'info', 'warn', 'error'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' '))),
    );
    try {
      const made = await callWithConfig(
        { LOG_LEVEL: 'debug' },
        'POST',
        '/auth/api-keys',
        {
          Authorization: `Bearer ${user.token}`,
        },
        { json: { name: 'logged', scopes: ['projects:read'], expires_at: daysAhead(1) } },
      );
      const key: string = made.body.key;
      for (const token of [key, mistyped(key), key.slice(0, 60)]) {
        await callWithConfig({ LOG_LEVEL: 'debug' }, 'GET', '/projects', { Authorization: `Bearer ${token}` });
      }
      await callWithConfig({ LOG_LEVEL: 'debug' }, 'GET', '/auth/api-keys', { Authorization: `Bearer ${key}` });
      expect(lines.length).toBeGreaterThan(0);
      const secret = key.slice(12);
      for (const line of lines) expect(line).not.toContain(secret.slice(0, 40));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('quotas', () => {
  /** A request to an app whose per-credential binding allows 3 a minute. */
  const tight = async (token: string, path = '/auth/me') => {
    const app = createApp();
    const request = new Request(`${BASE_URL}${path}`, {
      headers: withClientAddress({ Authorization: `Bearer ${token}` }),
    });
    const bindings = { ...env, CREDENTIAL_RATE_LIMIT: env.CREDENTIAL_RATE_LIMIT_TIGHT, API_RATE_LIMIT: '3' };
    const response = await app.request(request, undefined, bindings);
    return { status: response.status, headers: response.headers, body: await response.json<Record<string, unknown>>() };
  };

  it('counts every authenticated request against its credential, with the IETF fields, and 429 over it', async () => {
    const user = await createUser();
    const { key } = await makeKey(user, { scopes: ['projects:read'] });
    const answers = [];
    // 8 requests against a quota of 3: one window holds at least 4 of them, should a minute end among them.
    for (let index = 0; index < 8; index++) answers.push(await tight(key));
    expect(answers[0]!.status).toBe(200);
    expect(answers[0]!.headers.get('RateLimit-Policy')).toMatch(/^"credential";q=3;w=60$/);
    expect(answers[0]!.headers.get('RateLimit')).toMatch(/^"credential";r=\d+;t=\d+$/);
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const answer of limited) {
      expect(answer.body.code).toBe('rate_limited');
      expect(Number(answer.headers.get('Retry-After'))).toBeGreaterThan(0);
      expect(answer.headers.get('RateLimit')).toMatch(/;r=0;/);
    }
    // Another credential of the same user has a quota of its own only if it is another key; sessions share the user's.
    const other = await makeKey(user, { scopes: ['projects:read'] });
    expect((await tight(other.key)).status).toBe(200);
  });

  it('answers the fields on every authenticated response, refusals included, and none on public routes', async () => {
    const user = await createUser();
    const { key } = await makeKey(user, { scopes: ['projects:read'] });
    for (const res of [
      await call('GET', '/auth/me', { token: user.token }),
      await call('GET', '/auth/me', { token: key }),
      await call('POST', '/projects', { token: key, json: { name: 'x' } }),
      await call('GET', `/projects/${crypto.randomUUID()}`, { token: key }),
    ]) {
      expect(res.headers.get('RateLimit-Policy')).toContain('"credential";q=');
      expect(res.headers.get('RateLimit')).toContain('"credential";r=');
    }
    expect((await call('GET', '/health')).headers.get('RateLimit')).toBeNull();
  });
});
