import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import { hashPassword } from '../../src/lib/password.ts';
import { sql } from '../support/db.ts';
import { BASE_URL, call, databaseTraffic, expectProblem, parse } from '../support/http.ts';
import { createUser, PASSWORD, uniqueEmail } from '../support/users.ts';

const login = (email: string, password: string) => call('POST', '/auth/login', { json: { email, password } });

/** The user's sessions as rows, for checking that a refused login left none behind. */
const sessionsOf = async (userId: string) =>
  (await sql()`select id, revoked_at from sessions where user_id = ${userId} order by id`).map((row) => ({ ...row }));

describe('POST /auth/login', () => {
  it('returns a bearer token for JSON credentials', async () => {
    const user = await createUser();
    const res = await login(user.email, PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      refresh_expires_in: 30 * 24 * 3600,
    });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const me = await call('GET', '/auth/me', { token: res.body.access_token });
    expect(me.body.id).toBe(user.id);
  });

  it('accepts the OAuth2 password form Swagger UI sends (username holds the email)', async () => {
    const user = await createUser();
    const res = await call('POST', '/auth/login', {
      body: new URLSearchParams({
        grant_type: 'password',
        username: user.email.toUpperCase(),
        password: PASSWORD,
      }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('bearer');
  });

  it('answers unknown email and wrong password with the same 401', async () => {
    const user = await createUser();
    const wrong = await login(user.email, 'not the password');
    const unknown = await login(uniqueEmail('nobody'), 'not the password');
    for (const res of [wrong, unknown]) {
      expectProblem(res, 401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    }
    const strip = ({ request_id: _id, ...rest }: Record<string, unknown>) => rest;
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
  });

  it('spends the same hashing time on an unknown email as on a wrong password', async () => {
    // At a realistic cost the hash dominates; without the dummy verification an unknown email would
    // answer in a fraction of the time and reveal that the account does not exist.
    const costly = { ...env, PASSWORD_SCRYPT_LOG_N: '14', PASSWORD_SCRYPT_P: '2' };
    const post = async (path: string, body: unknown) => {
      const ctx = createExecutionContext();
      const started = performance.now();
      const res = await worker.fetch(
        new Request(`${BASE_URL}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        }),
        costly,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return { status: (await parse(res)).status, ms: performance.now() - started };
    };
    const email = uniqueEmail('timing');
    expect((await post('/auth/signup', { email, password: PASSWORD })).status).toBe(201);
    const median = async (body: unknown) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { status, ms } = await post('/auth/login', body);
        expect(status).toBe(401);
        times.push(ms);
      }
      return times.sort((a, b) => a - b)[2]!;
    };
    const wrongPassword = await median({ email, password: 'wrong password' });
    const unknownEmail = await median({ email: uniqueEmail('ghost'), password: 'wrong password' });
    expect(unknownEmail).toBeGreaterThan(wrongPassword * 0.6);
  });

  it('answers a deactivated account with the right password 403, with a wrong one 401', async () => {
    const user = await createUser();
    await sql()`update users set is_active = false where id = ${user.id}`;
    const before = await sessionsOf(user.id);
    expectProblem(await login(user.email, PASSWORD), 403, 'account_inactive');
    expectProblem(await login(user.email, 'wrong password'), 401);
    expect(await sessionsOf(user.id)).toEqual(before);
  });

  it('a successful login is two statements: the attempt counted with the session written, then the attempt settled', async () => {
    const user = await createUser();
    const res = await login(user.email, PASSWORD);
    expect(res.status).toBe(200);
    expect(databaseTraffic(res)).toEqual({ statements: 2, roundTrips: 2 });
    const refreshed = await call('POST', '/auth/refresh', { json: { refresh_token: res.body.refresh_token } });
    expect(refreshed.status).toBe(200);
  });

  it('a wrong password leaves no session behind: the one started before the check is deleted with the failure', async () => {
    const user = await createUser();
    const before = await sessionsOf(user.id);
    const attempts = await Promise.all(Array.from({ length: 4 }, () => login(user.email, 'wrong password')));
    for (const res of attempts) expectProblem(res, 401);
    expect(await sessionsOf(user.id)).toEqual(before);
    const [{ orphans }] =
      (await sql()`select count(*)::int as orphans from refresh_tokens t left join sessions s on s.id = t.session_id where s.id is null`) as unknown as [
        { orphans: number },
      ];
    expect(orphans).toBe(0);
  });

  it('a wrong password costs a second statement (its event, the session deleted); an unknown email only the first', async () => {
    const user = await createUser();
    const wrong = await login(user.email, 'wrong password');
    expectProblem(wrong, 401);
    expect(databaseTraffic(wrong)).toEqual({ statements: 2, roundTrips: 2 });
    const unknown = await login(uniqueEmail('nobody'), 'wrong password');
    expectProblem(unknown, 401);
    expect(databaseTraffic(unknown)).toEqual({ statements: 1, roundTrips: 1 });
  });

  it('logs in users imported from the original system with bcrypt hashes and upgrades the hash', async () => {
    const email = uniqueEmail('imported');
    const legacy = bcrypt.hashSync('legacy-pass', 4).replace(/^\$2[ab]\$/, '$2b$');
    await sql()`insert into users (email, password_hash, full_name) values (${email}, ${legacy}, 'Imported')`;
    const res = await login(email, 'legacy-pass');
    expect(res.status).toBe(200);
    const [row] = await sql()`select password_hash from users where email = ${email}`;
    expect(row!.password_hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect((await login(email, 'legacy-pass')).status).toBe(200);
  });

  it('replaces a hash made under weaker parameters on successful login, and only then', async () => {
    const user = await createUser();
    // The known password hashed under a weaker policy, as an older deployment would have stored it.
    const older = await hashPassword(PASSWORD, { algorithm: 'pbkdf2-sha256', iterations: 1000 });
    await sql()`update users set password_hash = ${older} where id = ${user.id}`;
    expectProblem(await login(user.email, 'wrong password'), 401);
    expect((await sql()`select password_hash from users where id = ${user.id}`)[0]!.password_hash).toBe(older);
    expect((await login(user.email, PASSWORD)).status).toBe(200);
    const [after] = await sql()`select password_hash from users where id = ${user.id}`;
    expect(after!.password_hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
  });

  const invalid: [string, CallInit][] = [
    ['no body', {}],
    ['malformed JSON', { body: '{"email":', headers: { 'Content-Type': 'application/json' } }],
    ['wrong content type', { body: 'email=x', headers: { 'Content-Type': 'text/plain' } }],
    ['missing password', { json: { email: 'a@example.com' } }],
    ['password as a number', { json: { email: 'a@example.com', password: 123 } }],
    ['email as an array', { json: { email: ['a@example.com'], password: 'x' } }],
    ['null body', { json: null }],
    ['huge password', { json: { email: 'a@example.com', password: 'x'.repeat(5000) } }],
  ];
  type CallInit = Parameters<typeof call>[2];
  const expected: Record<string, number> = { 'malformed JSON': 400, 'wrong content type': 415 };
  for (const [name, init] of invalid) {
    it(`rejects ${name} with ${expected[name] ?? 422}`, async () => {
      expectProblem(await call('POST', '/auth/login', init), expected[name] ?? 422);
    });
  }
});
