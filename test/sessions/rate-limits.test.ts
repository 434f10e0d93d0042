import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, databaseTraffic, expectProblem, passwordHashes } from '../support/http.ts';
import { createUser, PASSWORD, uniqueEmail } from '../support/users.ts';

const login = (email: string, password: string, ip?: string) =>
  call('POST', '/auth/login', { json: { email, password }, headers: ip ? { 'CF-Connecting-IP': ip } : {} });

describe('per client IP (the Rate Limiting binding)', () => {
  it('answers 429 with Retry-After after 20 logins a minute from one address, before any database work or hashing', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const user = await createUser();
    for (let i = 0; i < 20; i++) expect((await login(uniqueEmail('nobody'), 'wrong password', ip)).status).toBe(401);
    const limited = await login(user.email, PASSWORD, ip);
    expectProblem(limited, 429);
    expect(limited.headers.get('Retry-After')).toBe('60');
    expect(databaseTraffic(limited)).toEqual({ statements: 0, roundTrips: 0 });
    expect(passwordHashes(limited)).toBe(0);
    // Counted per route and per address.
    expect((await login(user.email, PASSWORD)).status).toBe(200);
    const signup = await call('POST', '/auth/signup', {
      json: { email: uniqueEmail(), password: PASSWORD },
      headers: { 'CF-Connecting-IP': ip },
    });
    expect(signup.status).toBe(201);
  });

  it('limits signup, refresh, logout and password changes too', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const headers = { 'CF-Connecting-IP': ip };
    for (let i = 0; i < 20; i++) await call('POST', '/auth/refresh', { json: { refresh_token: 'x' }, headers });
    const limited = await call('POST', '/auth/refresh', { json: { refresh_token: 'x' }, headers });
    expectProblem(limited, 429);
    expect(databaseTraffic(limited).statements).toBe(0);
    for (let i = 0; i < 20; i++) await call('POST', '/auth/logout', { json: { refresh_token: 'x' }, headers });
    const logout = await call('POST', '/auth/logout', { json: { refresh_token: 'x'.repeat(43) }, headers });
    expectProblem(logout, 429);
    expect(databaseTraffic(logout)).toEqual({ statements: 0, roundTrips: 0 });
    const user = await createUser();
    for (let i = 0; i < 20; i++) await call('POST', '/auth/signup', { json: {}, headers });
    expectProblem(
      await call('POST', '/auth/signup', { json: { email: uniqueEmail(), password: PASSWORD }, headers }),
      429,
    );
    for (let i = 0; i < 20; i++) await call('POST', '/auth/me/password', { token: user.token, json: {}, headers });
    const password = await call('POST', '/auth/me/password', {
      token: user.token,
      json: { current_password: PASSWORD, new_password: 'another passphrase' },
      headers,
    });
    expectProblem(password, 429);
    expect(passwordHashes(password)).toBe(0);
  });

  it('in development, allows a local script to sign up and log in 100 users a minute from one address', async () => {
    const limiter = env.AUTH_RATE_LIMIT_DEVELOPMENT!;
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    for (const route of ['signup', 'login']) {
      for (let i = 0; i < 100; i++) expect((await limiter.limit({ key: `${route}:${ip}` })).success).toBe(true);
    }
  });
});
