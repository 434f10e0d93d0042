import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORD_COUNT } from '../../src/lib/common-passwords.data.ts';
import { passwordWeakness } from '../../src/lib/password-strength.ts';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { createUser, PASSWORD, uniqueEmail } from '../support/users.ts';

describe('new passwords (NIST SP 800-63B)', () => {
  const weak: [string, (email: string) => string, RegExp][] = [
    ['one character repeated', () => 'aaaaaaaa', /repeated/],
    ['a sequence of digits', () => '12345678', /sequence/],
    ['a common password', () => 'password', /common/],
    ['a common password in other case', () => 'PassWord1', /common/],
    ['another from the list', () => 'qwertyuiop', /common/],
    ['eight spaces', () => '        ', /whitespace/],
    ['the email itself', (email) => email, /email/],
    ["the email's local part with more", (email) => `${email.split('@')[0]}2026!`, /email/],
  ];

  for (const [label, password, reason] of weak) {
    it(`signup refuses ${label}: 422 password_too_weak with the reason, and creates nothing`, async () => {
      const email = uniqueEmail('weak');
      const res = await call('POST', '/auth/signup', { json: { email, password: password(email) } });
      const problem = expectProblem(res, 422) as { code?: string; errors?: { path: string; message: string }[] };
      expect(problem.code).toBe('password_too_weak');
      expect(problem.errors).toEqual([{ path: 'body.password', message: expect.stringMatching(reason) }]);
      const [row] = await sql()`select count(*)::int as n from users where email = ${email}`;
      expect(row!.n).toBe(0);
    });
  }

  it('the password change refuses a weak new password the same way, and changes nothing', async () => {
    const user = await createUser();
    const res = await call('POST', '/auth/me/password', {
      token: user.token,
      json: { current_password: PASSWORD, new_password: 'iloveyou1' },
    });
    const problem = expectProblem(res, 422) as { code?: string; errors?: { path: string }[] };
    expect(problem.code).toBe('password_too_weak');
    expect(problem.errors![0]!.path).toBe('body.new_password');
    expect((await call('GET', '/auth/me', { token: user.token })).status).toBe(200);
  });

  it('bundles thousands of common passwords and lets good ones through', () => {
    expect(COMMON_PASSWORD_COUNT).toBeGreaterThan(7000);
    for (const common of ['iloveyou', 'sunshine', 'football', 'princess1', 'trustno1', 'qwerty123', 'baseball']) {
      expect(passwordWeakness(common, 'someone@example.com'), common).toMatch(/common/);
    }
    for (const good of [PASSWORD, 'tide pool lantern', 'r7Kq2vXp', 'Ünïcödé pässwörd', '日本語のパスワードです']) {
      expect(passwordWeakness(good, 'someone@example.com'), good).toBeUndefined();
    }
    // A short local part is not a word to avoid: "ab" would refuse half of all passwords.
    expect(passwordWeakness('label maker 99', 'ab@example.com')).toBeUndefined();
  });
});
