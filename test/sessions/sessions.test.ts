import { describe, expect, it, vi } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { createUser, logInForTokens, PASSWORD } from '../support/users.ts';

const refresh = (refreshToken: unknown) => call('POST', '/auth/refresh', { json: { refresh_token: refreshToken } });
const me = (token: string) => call('GET', '/auth/me', { token });

describe('refresh tokens', () => {
  it('rotate: each refresh gives a new pair and the old refresh token stops working', async () => {
    const user = await createUser();
    const first = await refresh(user.refreshToken);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      refresh_expires_in: 30 * 24 * 3600,
    });
    expect(first.body.refresh_token).not.toBe(user.refreshToken);
    expect((await me(first.body.access_token)).body.id).toBe(user.id);
    const second = await refresh(first.body.refresh_token);
    expect(second.status).toBe(200);
    // Only digests are stored.
    const stored =
      await sql()`select token_hash from refresh_tokens t join sessions s on s.id = t.session_id where s.user_id = ${user.id}`;
    expect(stored).toHaveLength(3);
    for (const row of stored)
      expect([user.refreshToken, first.body.refresh_token, second.body.refresh_token]).not.toContain(row.token_hash);
  });

  it('a rotated token presented again revokes its whole session, the newest token included', async () => {
    const user = await createUser();
    const rotated = await refresh(user.refreshToken);
    expectProblem(await refresh(user.refreshToken), 401, 'refresh_token_reused');
    expectProblem(await refresh(rotated.body.refresh_token), 401);
    const [session] = await sql()`select revoked_at from sessions where user_id = ${user.id}`;
    expect(session!.revoked_at).toBeInstanceOf(Date);
  });

  it('concurrent refreshes with one token: exactly one succeeds', async () => {
    const user = await createUser();
    const results = await Promise.all(Array.from({ length: 6 }, () => refresh(user.refreshToken)));
    expect(results.map((res) => res.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    for (const res of results.filter((r) => r.status === 401)) expectProblem(res, 401);
    const tokens =
      await sql()`select rotated_at from refresh_tokens t join sessions s on s.id = t.session_id where s.user_id = ${user.id}`;
    expect(tokens).toHaveLength(2);
  });

  it('refuses garbage, truncated, too long, expired, access tokens and revoked ones, with 4xx and no token in the logs', async () => {
    const user = await createUser();
    const other = await createUser();
    const logged = vi.spyOn(console, 'error');
    const printed = vi.spyOn(console, 'log');
    for (const token of [
      'garbage',
      user.refreshToken.slice(0, 20),
      `${user.refreshToken}x`,
      user.token,
      '',
      'x'.repeat(43),
      null,
      42,
    ]) {
      const res = await refresh(token);
      expect(res.status, String(token).slice(0, 20)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expectProblem(await refresh('a'.repeat(513)), 422);
    await sql()`update refresh_tokens set expires_at = now() - interval '1 second' where session_id in (select id from sessions where user_id = ${other.id})`;
    expectProblem(await refresh(other.refreshToken), 401, 'refresh_token_expired');
    // A refresh token is not an access token, and the other way round.
    expectProblem(await me(user.refreshToken), 401);
    const text = JSON.stringify([...logged.mock.calls, ...printed.mock.calls]);
    expect(text).not.toContain(user.refreshToken);
    expect(text).not.toContain(user.token);
    logged.mockRestore();
    printed.mockRestore();
    // The user's own session was never harmed by the garbage.
    expect((await refresh(user.refreshToken)).status).toBe(200);
  });
});

describe('logout', () => {
  it('revokes that session (its refresh token), twice is a 401; its access token lives until it expires', async () => {
    const user = await createUser();
    const otherSession = await logInForTokens(user.email, PASSWORD);
    const res = await call('POST', '/auth/logout', { json: { refresh_token: user.refreshToken } });
    expect(res.status).toBe(204);
    expectProblem(await refresh(user.refreshToken), 401);
    expectProblem(await call('POST', '/auth/logout', { json: { refresh_token: user.refreshToken } }), 401);
    expect((await me(user.token)).status).toBe(200);
    expect((await refresh(otherSession.refresh_token)).status).toBe(200);
  });

  it('logout-all ends every session and every access token at once', async () => {
    const user = await createUser();
    const second = await logInForTokens(user.email, PASSWORD);
    const res = await call('POST', '/auth/logout-all', { token: second.access_token });
    expect(res.status).toBe(204);
    expectProblem(await me(user.token), 401);
    expectProblem(await me(second.access_token), 401);
    expectProblem(await refresh(user.refreshToken), 401);
    expectProblem(await refresh(second.refresh_token), 401);
    expectProblem(await call('POST', '/auth/logout-all', { token: second.access_token }), 401);
    const fresh = await logInForTokens(user.email, PASSWORD);
    expect((await me(fresh.access_token)).status).toBe(200);
  });

  it('a session begun under an earlier epoch cannot refresh, even if the revocation missed it', async () => {
    // A login racing logout-all (or a password change) can write its session after the revocation ran,
    // under the epoch the login read. Reproduced here by taking the revocation back by hand.
    const user = await createUser();
    const racing = await logInForTokens(user.email, PASSWORD);
    expect((await call('POST', '/auth/logout-all', { token: user.token })).status).toBe(204);
    await sql()`update sessions set revoked_at = null where user_id = ${user.id}`;
    expectProblem(await refresh(racing.refresh_token), 401, 'session_revoked');
    // A password change carries its own session on to the new epoch.
    const fresh = await logInForTokens(user.email, PASSWORD);
    const changed = await call('POST', '/auth/me/password', {
      token: fresh.access_token,
      json: { current_password: PASSWORD, new_password: 'a different long passphrase' },
    });
    expect(changed.status).toBe(204);
    expect((await refresh(fresh.refresh_token)).status).toBe(200);
  });
});

describe('GET and DELETE /auth/sessions', () => {
  it("lists the caller's live sessions newest first, marks the current one, and revokes one", async () => {
    const user = await createUser();
    const phone = await call('POST', '/auth/login', {
      json: { email: user.email, password: PASSWORD },
      headers: { 'User-Agent': 'Phone/1.0', 'CF-Connecting-IP': '203.0.113.7' },
    });
    const list = await call('GET', '/auth/sessions', { token: phone.body.access_token });
    expect(list.status).toBe(200);
    expect(list.headers.get('X-Total-Count')).toBe('2');
    expect(list.body[0]).toMatchObject({
      user_agent: 'Phone/1.0',
      ip: '203.0.113.7',
      current: true,
      created_at: expect.any(String),
      last_used_at: expect.any(String),
    });
    expect(list.body[1].current).toBe(false);

    const stranger = await createUser();
    expectProblem(await call('DELETE', `/auth/sessions/${list.body[1].id}`, { token: stranger.token }), 404);
    expectProblem(await call('DELETE', `/auth/sessions/${crypto.randomUUID()}`, { token: user.token }), 404);
    expectProblem(await call('DELETE', '/auth/sessions/nope', { token: user.token }), 422);
    expect((await call('DELETE', `/auth/sessions/${list.body[1].id}`, { token: phone.body.access_token })).status).toBe(
      204,
    );
    expectProblem(await refresh(user.refreshToken), 401);
    expectProblem(await call('DELETE', `/auth/sessions/${list.body[1].id}`, { token: phone.body.access_token }), 404);
    expect(
      (await call('GET', '/auth/sessions', { token: phone.body.access_token })).body.map((s: { id: string }) => s.id),
    ).toEqual([list.body[0].id]);
  });
});
