import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { createUser, logInForTokens, PASSWORD } from '../support/users.ts';

describe('PATCH /auth/me', () => {
  it('changes the caller’s own name, clears it with null, and refuses bad input', async () => {
    const user = await createUser({ fullName: 'Old Name' });
    const res = await call('PATCH', '/auth/me', {
      token: user.token,
      json: { full_name: '  Ada Lovelace ', role: 'admin', email: 'x@example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ full_name: 'Ada Lovelace', role: 'user', email: user.email });
    expect(
      (await call('PATCH', '/auth/me', { token: user.token, json: { full_name: null } })).body.full_name,
    ).toBeNull();
    for (const json of [{}, { full_name: '' }, { full_name: 'a\nb' }, { full_name: 'x'.repeat(201) }, null]) {
      expectProblem(await call('PATCH', '/auth/me', { token: user.token, json }), 422);
    }
  });
});

describe('POST /auth/me/password', () => {
  it('changes the password, ends every other session and every earlier access token, and keeps this session', async () => {
    const user = await createUser();
    const laptop = await logInForTokens(user.email, PASSWORD);
    const res = await call('POST', '/auth/me/password', {
      token: user.token,
      json: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
    });
    expect(res.status).toBe(204);
    // Old access tokens, this one's included, are refused; the other session is gone; this session refreshes.
    expectProblem(await call('GET', '/auth/me', { token: user.token }), 401);
    expectProblem(await call('GET', '/auth/me', { token: laptop.access_token }), 401);
    expectProblem(await call('POST', '/auth/refresh', { json: { refresh_token: laptop.refresh_token } }), 401);
    const renewed = await call('POST', '/auth/refresh', { json: { refresh_token: user.refreshToken } });
    expect(renewed.status).toBe(200);
    expect((await call('GET', '/auth/me', { token: renewed.body.access_token })).status).toBe(200);
    expectProblem(await call('POST', '/auth/login', { json: { email: user.email, password: PASSWORD } }), 401);
    expect(
      (await call('POST', '/auth/login', { json: { email: user.email, password: 'a brand new passphrase' } })).status,
    ).toBe(200);
  });

  it('403 for a wrong current password, counted against the password-change key and in the trail as a failed login; 422 for a weak new one; nothing changes', async () => {
    const user = await createUser();
    const [before] = await sql()`select password_hash, token_epoch from users where id = ${user.id}`;
    expectProblem(
      await call('POST', '/auth/me/password', {
        token: user.token,
        json: { current_password: 'not my password', new_password: 'a brand new passphrase' },
      }),
      403,
    );
    const [throttle] =
      await sql()`select attempts from auth_throttles where key_hash = encode(sha256(convert_to('password-change:' || ${user.id}, 'UTF8')), 'hex')`;
    expect(throttle!.attempts).toBe(1);
    const [event] = await sql()`select action from audit_events where entity_id = ${user.id} order by id desc limit 1`;
    expect(event!.action).toBe('auth.login_failed');
    for (const json of [
      { current_password: PASSWORD, new_password: 'short' },
      { current_password: PASSWORD, new_password: 'x'.repeat(129) },
      { current_password: PASSWORD },
      { new_password: 'long enough password' },
      { current_password: 'x'.repeat(1024 * 1024), new_password: 'long enough password' },
    ]) {
      const res = await call('POST', '/auth/me/password', { token: user.token, json });
      expect([413, 422]).toContain(res.status);
    }
    const [after] = await sql()`select password_hash, token_epoch from users where id = ${user.id}`;
    expect(after).toEqual(before);
    expect((await call('GET', '/auth/me', { token: user.token })).status).toBe(200);
  });
});

describe('POST /auth/me/password, the caller deactivated between its two statements', () => {
  it('403 account_inactive from the write’s own guards: the hash, the epoch, the sessions and the throttle key stay', async () => {
    const user = await createUser();
    const laptop = await logInForTokens(user.email, PASSWORD);
    const [before] = await sql()`select password_hash, token_epoch from users where id = ${user.id}`;
    let pending: Promise<Awaited<ReturnType<typeof call>>> | undefined;
    // The deactivation holds the user's row lock until the request's write waits on it; the request's first
    // statement (a plain read of the row) does not wait, so only the write's guards can see the change.
    await sql().begin(async (tx) => {
      const [{ pid }] = (await tx`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      await tx`update users set is_active = false where id = ${user.id}`;
      pending = call('POST', '/auth/me/password', {
        token: user.token,
        json: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
      });
      for (let tries = 0; ; tries++) {
        const [{ waiting }] = (await sql()`select count(*)::int as waiting from pg_stat_activity
                                          where ${pid}::int = any(pg_blocking_pids(pid))`) as unknown as [
          { waiting: number },
        ];
        if (waiting > 0) break;
        if (tries > 500) throw new Error('the password change never waited on the row lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
    expectProblem(await pending!, 403, 'account_inactive');
    const [after] = await sql()`select password_hash, token_epoch from users where id = ${user.id}`;
    expect(after).toEqual(before);
    const live = await sql()`select id from sessions where user_id = ${user.id} and revoked_at is null`;
    expect(live).toHaveLength(2);
    const [throttle] =
      await sql()`select attempts from auth_throttles where key_hash = encode(sha256(convert_to('password-change:' || ${user.id}, 'UTF8')), 'hex')`;
    expect(throttle!.attempts).toBe(1);
    const events =
      await sql()`select 1 from audit_events where entity_id = ${user.id} and action = 'user.password_change'`;
    expect(events).toHaveLength(0);
    await sql()`update users set is_active = true where id = ${user.id}`;
    expect((await call('POST', '/auth/refresh', { json: { refresh_token: laptop.refresh_token } })).status).toBe(200);
  });
});
