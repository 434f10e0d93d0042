import { describe, expect, inject, it } from 'vitest';
import { call } from '../support/http.ts';
import { createUser, logIn } from '../support/users.ts';

describe('an admin created with `npm run user:create -- --role admin`', () => {
  it('logs in and manages users through the API alone', async () => {
    const { email, password } = inject('cliAdmin');
    const token = await logIn(email, password);
    const me = await call('GET', '/auth/me', { token });
    expect(me.body).toMatchObject({ email, role: 'admin', is_active: true });

    const user = await createUser({ fullName: 'Managed By Cli Admin' });
    const listed = await call('GET', `/auth/admin/users?q=${encodeURIComponent(user.email)}`, { token });
    expect(listed.body.map((u: { id: string }) => u.id)).toEqual([user.id]);
    expect(
      (await call('PATCH', `/auth/admin/users/${user.id}/role`, { token, json: { role: 'admin' } })).body.role,
    ).toBe('admin');
    expect(
      (await call('PATCH', `/auth/admin/users/${user.id}/status`, { token, json: { is_active: false } })).body
        .is_active,
    ).toBe(false);
    expect(
      (await call('PATCH', `/auth/admin/users/${user.id}/status`, { token, json: { is_active: true } })).body.is_active,
    ).toBe(true);
  });
});
