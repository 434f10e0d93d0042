import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { uniqueEmail } from '../support/users.ts';

const countUsers = async (email: string) =>
  Number((await sql()`select count(*) from users where lower(email) = ${email.toLowerCase()}`)[0]!.count);

describe('POST /auth/signup', () => {
  it('creates a user with role user and returns it without any hash', async () => {
    const email = uniqueEmail();
    const res = await call('POST', '/auth/signup', {
      json: { email, password: 'plum orchard 7', full_name: 'Ada Lovelace' },
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([
      'created_at',
      'email',
      'email_verified_at',
      'full_name',
      'id',
      'is_active',
      'role',
      'updated_at',
    ]);
    expect(res.body).toMatchObject({
      email,
      full_name: 'Ada Lovelace',
      role: 'user',
      is_active: true,
      email_verified_at: null,
    });
    expect(res.text).not.toMatch(/hash|\$scrypt/);
    expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);
    const [row] = await sql()`select password_hash, role from users where id = ${res.body.id}`;
    expect(row!.password_hash).toMatch(/^\$scrypt\$/);
    expect(row!.role).toBe('user');
  });

  it('stores the email trimmed and lowercased; full_name is optional', async () => {
    const email = uniqueEmail('MiXeD');
    const res = await call('POST', '/auth/signup', {
      json: { email: `  ${email.toUpperCase()}  `, password: 'plum orchard 7' },
    });
    expect(res.status).toBe(201);
    expect(res.body.email).toBe(email.toLowerCase());
    expect(res.body.full_name).toBeNull();
  });

  it('refuses a duplicate email in any case with 409 and creates nothing', async () => {
    const email = uniqueEmail();
    expect((await call('POST', '/auth/signup', { json: { email, password: 'plum orchard 7' } })).status).toBe(201);
    const again = await call('POST', '/auth/signup', {
      json: { email: email.toUpperCase(), password: 'quiet lantern 9' },
    });
    expectProblem(again, 409, 'email_taken');
    expect(await countUsers(email)).toBe(1);
  });

  it('lets exactly one of two simultaneous signups with one email succeed', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all(
      [email, email.toUpperCase(), ` ${email}`].map((e) =>
        call('POST', '/auth/signup', { json: { email: e, password: 'plum orchard 7' } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await countUsers(email)).toBe(1);
  });

  it('ignores id, role, is_active and timestamps in the body', async () => {
    const email = uniqueEmail('sneaky');
    const id = crypto.randomUUID();
    const res = await call('POST', '/auth/signup', {
      json: {
        email,
        password: 'plum orchard 7',
        id,
        role: 'admin',
        is_active: false,
        created_at: '2000-01-01T00:00:00Z',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe(id);
    expect(res.body.role).toBe('user');
    expect(res.body.is_active).toBe(true);
    expect(res.body.created_at).not.toContain('2000');
  });

  const invalid: [string, unknown][] = [
    ['invalid email', { email: 'not-an-email', password: 'plum orchard 7' }],
    ['email with a control character', { email: 'a\u0000b@example.com', password: 'plum orchard 7' }],
    ['overlong email', { email: `${'a'.repeat(250)}@example.com`, password: 'plum orchard 7' }],
    ['7-character password', { email: 'ok@example.com', password: '1234567' }],
    ['129-character password', { email: 'ok@example.com', password: 'p'.repeat(129) }],
    ['missing password', { email: 'ok@example.com' }],
    ['numeric password', { email: 'ok@example.com', password: 12345678 }],
    ['email as an object', { email: { $gt: '' }, password: 'plum orchard 7' }],
    ['full_name with a NUL', { email: 'ok@example.com', password: 'plum orchard 7', full_name: 'Ada\u0000' }],
    ['full_name too long', { email: 'ok@example.com', password: 'plum orchard 7', full_name: 'x'.repeat(201) }],
    ['full_name as a number', { email: 'ok@example.com', password: 'plum orchard 7', full_name: 42 }],
    ['null body', null],
    ['array body', [{ email: 'ok@example.com', password: 'plum orchard 7' }]],
    ['string body', 'hello'],
  ];
  for (const [name, body] of invalid) {
    it(`422 for ${name}, creating nothing`, async () => {
      const res = await call('POST', '/auth/signup', { json: body });
      const problem = expectProblem(res, 422);
      expect(problem.errors?.length).toBeGreaterThan(0);
      expect(await countUsers('ok@example.com')).toBe(0);
    });
  }

  it('accepts exactly 8 and exactly 128 characters', async () => {
    for (const password of ['r7Kq2vXp', 'tide pool '.repeat(13).slice(0, 128)]) {
      expect((await call('POST', '/auth/signup', { json: { email: uniqueEmail(), password } })).status).toBe(201);
    }
  });
});
