import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { createUser } from '../support/users.ts';

// These tests own the set of admins: each starts from a database where no other admin is active.
// Test files run one at a time (fileParallelism: false in vitest.config.ts), so no other file adds or
// needs admins meanwhile.
async function onlyTheseAdmins(count: number) {
  await sql()`update users set role = 'user' where role = 'admin'`;
  const admins = [];
  for (let i = 0; i < count; i++) admins.push(await createUser({ role: 'admin' }));
  return admins;
}

// Leave the admins other files rely on (the CLI-created one among them) as they were.
let adminsBefore: string[] = [];
beforeAll(async () => {
  adminsBefore = (await sql()`select id from users where role = 'admin'`).map((row) => row.id as string);
});
afterAll(async () => {
  if (adminsBefore.length > 0) await sql()`update users set role = 'admin' where id in ${sql()(adminsBefore)}`;
});

const activeAdmins = async () =>
  Number((await sql()`select count(*) from users where role = 'admin' and is_active`)[0]!.count);

describe('the last active admin', () => {
  it('cannot be demoted (409), by anyone', async () => {
    const [admin] = await onlyTheseAdmins(1);
    const res = await call('PATCH', `/auth/admin/users/${admin!.id}/role`, {
      token: admin!.token,
      json: { role: 'user' },
    });
    expectProblem(res, 409, 'last_admin');
    expect(await activeAdmins()).toBe(1);
  });

  it('counts only active admins: an inactive admin does not save the last active one', async () => {
    const [active, dormant] = await onlyTheseAdmins(2);
    await sql()`update users set is_active = false where id = ${dormant!.id}`;
    const res = await call('PATCH', `/auth/admin/users/${active!.id}/role`, {
      token: active!.token,
      json: { role: 'user' },
    });
    expectProblem(res, 409, 'last_admin');
    // Reactivating the dormant admin lifts the block.
    await sql()`update users set is_active = true where id = ${dormant!.id}`;
    expect(
      (await call('PATCH', `/auth/admin/users/${active!.id}/role`, { token: active!.token, json: { role: 'user' } }))
        .status,
    ).toBe(200);
    expect(await activeAdmins()).toBe(1);
  });

  it('can step down once another active admin exists', async () => {
    const [first, second] = await onlyTheseAdmins(2);
    const res = await call('PATCH', `/auth/admin/users/${first!.id}/role`, {
      token: first!.token,
      json: { role: 'user' },
    });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('user');
    expectProblem(
      await call('PATCH', `/auth/admin/users/${second!.id}/status`, {
        token: second!.token,
        json: { is_active: false },
      }),
      409,
    );
    expect(await activeAdmins()).toBe(1);
  });

  it('two admins demoting each other at the same moment: exactly one succeeds', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = await onlyTheseAdmins(2);
      const results = await Promise.all([
        call('PATCH', `/auth/admin/users/${b!.id}/role`, { token: a!.token, json: { role: 'user' } }),
        call('PATCH', `/auth/admin/users/${a!.id}/role`, { token: b!.token, json: { role: 'user' } }),
      ]);
      const statuses = results.map((r) => r.status).sort();
      // One demotion wins; the other is refused as the last admin (409) or, when its author was
      // demoted first, as no longer an admin: their token was revoked with the demotion (401), or the
      // role check before the transaction saw it (403).
      expect(statuses[0]).toBe(200);
      expect([401, 403, 409]).toContain(statuses[1]);
      expect(await activeAdmins()).toBe(1);
    }
  });

  it('two admins deactivating each other at the same moment: exactly one succeeds', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = await onlyTheseAdmins(2);
      const results = await Promise.all([
        call('PATCH', `/auth/admin/users/${b!.id}/status`, { token: a!.token, json: { is_active: false } }),
        call('PATCH', `/auth/admin/users/${a!.id}/status`, { token: b!.token, json: { is_active: false } }),
      ]);
      expect(results.map((r) => r.status).sort()[0]).toBe(200);
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(await activeAdmins()).toBe(1);
    }
  });
});
