import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem, databaseTraffic } from '../support/http.ts';
import { createUser, signToken } from '../support/users.ts';

const me = (authorization?: string) =>
  call('GET', '/auth/me', { headers: authorization ? { Authorization: authorization } : {} });

describe('GET /auth/me', () => {
  it('returns the current user in one statement', async () => {
    const user = await createUser({ fullName: 'Grace Hopper' });
    const res = await call('GET', '/auth/me', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: user.id,
      email: user.email,
      full_name: 'Grace Hopper',
      role: 'user',
      is_active: true,
    });
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
  });

  it('keeps concurrent requests apart: each runs its own statement on its own connection', async () => {
    // Statements are built once per isolate and shared (db/client.ts); each request's connection is found
    // through its own async context, which interleaved requests must not mix up.
    const users = await Promise.all(Array.from({ length: 8 }, (_, i) => createUser({ fullName: `Concurrent ${i}` })));
    const responses = await Promise.all(
      users.flatMap((user) => [user, user].map(() => call('GET', '/auth/me', { token: user.token }))),
    );
    responses.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(users[Math.floor(i / 2)]!.id);
      expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
    });
  });

  it('accepts the scheme in any case', async () => {
    const user = await createUser();
    expect((await me(`bearer ${user.token}`)).status).toBe(200);
  });

  it('401 with a bare Bearer challenge when the header is missing', async () => {
    const res = await me();
    expectProblem(res, 401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="aegisflow"');
  });

  it('401 for malformed headers', async () => {
    const user = await createUser();
    for (const header of [
      'Bearer',
      'Bearer ',
      `Token ${user.token}`,
      user.token,
      'Bearer not.a.jwt!',
      'Bearer a.b',
      `Bearer ${user.token} extra`,
    ]) {
      const res = await me(header);
      expectProblem(res, 401);
      expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
    }
  });

  it('401 for a tampered signature or payload, also once the genuine token has been accepted', async () => {
    const user = await createUser();
    expect((await me(`Bearer ${user.token}`)).status).toBe(200);
    const [header, payload, signature] = user.token.split('.') as [string, string, string];
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    expectProblem(await me(`Bearer ${header}.${payload}.${flipped}`), 401);
    const other = await createUser();
    const otherPayload = other.token.split('.')[1];
    expectProblem(await me(`Bearer ${header}.${otherPayload}.${signature}`), 401);
  });

  it('a token accepted before is refused once it expires', async () => {
    const user = await createUser();
    const expiresAt = Math.ceil(Date.now() / 1000) + 1;
    const token = await signToken({}, { subject: user.id, expiresIn: expiresAt });
    expect((await me(`Bearer ${token}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
    const res = await me(`Bearer ${token}`);
    expectProblem(res, 401, 'token_expired');
  });

  it('401 for alg none', async () => {
    const user = await createUser();
    const encode = (value: object) =>
      btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: user.id, iss: 'aegisflow-test', iat: now, exp: now + 600, jti: 'x' })}.`;
    expectProblem(await me(`Bearer ${unsigned}`), 401);
  });

  it('401 for a token signed with another secret', async () => {
    const user = await createUser();
    const forged = await signToken({}, { subject: user.id, secret: 'another-secret-that-is-long-enough-to-be-valid' });
    expectProblem(await me(`Bearer ${forged}`), 401);
  });

  it('401 for a wrong issuer, a missing subject or a subject that is not a user id', async () => {
    const user = await createUser();
    expectProblem(await me(`Bearer ${await signToken({}, { subject: user.id, issuer: 'someone-else' })}`), 401);
    expectProblem(await me(`Bearer ${await signToken({})}`), 401);
    expectProblem(await me(`Bearer ${await signToken({}, { subject: "1' or '1'='1" })}`), 401);
  });

  it('401 for a token without the audience, for another audience, or of another type than at+jwt (RFC 9068)', async () => {
    const user = await createUser();
    expect((await me(`Bearer ${await signToken({}, { subject: user.id })}`)).status).toBe(200);
    expectProblem(await me(`Bearer ${await signToken({}, { subject: user.id, audience: null })}`), 401);
    expectProblem(await me(`Bearer ${await signToken({}, { subject: user.id, audience: 'another-api' })}`), 401);
    expectProblem(await me(`Bearer ${await signToken({}, { subject: user.id, typ: 'JWT' })}`), 401);
    const issued = JSON.parse(atob(user.token.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')));
    expect(issued.typ).toBe('at+jwt');
    expect(JSON.parse(atob(user.token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).aud).toBe('aegisflow-api');
  });

  it('401 saying so for an expired token', async () => {
    const user = await createUser();
    const expired = await signToken({}, { subject: user.id, expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const res = await me(`Bearer ${expired}`);
    expectProblem(res, 401, 'token_expired');
    expect(res.headers.get('WWW-Authenticate')).toContain('expired');
  });

  it('401 for a valid token whose user no longer exists', async () => {
    const user = await createUser();
    await sql()`delete from users where id = ${user.id}`;
    expectProblem(await me(`Bearer ${user.token}`), 401);
  });

  it('403 for a deactivated user, at once, and access again after reactivation', async () => {
    const user = await createUser();
    await sql()`update users set is_active = false where id = ${user.id}`;
    expectProblem(await me(`Bearer ${user.token}`), 403, 'account_inactive');
    await sql()`update users set is_active = true where id = ${user.id}`;
    expect((await me(`Bearer ${user.token}`)).status).toBe(200);
  });
});
