import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, callWithConfig, expectProblem } from '../support/http.ts';
import { mailedToken, messagesTo, tokenIn } from '../support/mail.ts';
import { createUser, PASSWORD, uniqueEmail } from '../support/users.ts';

const verify = (token: string) => call('POST', '/auth/email/verify', { json: { token } });
const resend = (token: string) => call('POST', '/auth/email/verify/resend', { token });
const changeEmail = (token: string, newEmail: string, currentPassword = PASSWORD) =>
  call('POST', '/auth/me/email', { token, json: { new_email: newEmail, current_password: currentPassword } });
const userRow = async (id: string) =>
  (await sql()`select email, email_verified_at, token_epoch from users where id = ${id}`)[0]!;

describe('email verification', () => {
  it('signup mails a 24-hour token; POST /auth/email/verify sets email_verified_at, once', async () => {
    const user = await createUser();
    const me = await call('GET', '/auth/me', { token: user.token });
    expect(me.body.email_verified_at).toBeNull();
    const [message] = await messagesTo(user.email, 'email_verify');
    const token = tokenIn(message!);
    const [row] = await sql()`select extract(epoch from expires_at - created_at)::int as seconds from account_tokens
                              where user_id = ${user.id} and kind = 'email_verify'`;
    expect(row!.seconds).toBe(24 * 3600);
    const res = await verify(token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, email: user.email, email_verified_at: expect.any(String) });
    expect((await call('GET', '/auth/me', { token: user.token })).body.email_verified_at).toBe(
      res.body.email_verified_at,
    );
    expectProblem(await verify(token), 400, 'verification_token_invalid');
    const events =
      await sql()`select actor_id from audit_events where entity_id = ${user.id} and action = 'user.email_verify'`;
    expect(events).toEqual([{ actor_id: user.id }]);
  });

  it('400 verification_token_invalid for unknown, truncated, expired and reset tokens; nothing changes', async () => {
    const user = await createUser();
    const token = await mailedToken(user.email, 'email_verify');
    await call('POST', '/auth/password/forgot', { json: { email: user.email } });
    const resetToken = await mailedToken(user.email, 'password_reset');
    const other = await createUser();
    await sql()`update account_tokens set expires_at = now() - interval '1 second' where user_id = ${other.id}`;
    for (const bad of [
      'nope',
      token.slice(1),
      `${token}A`,
      resetToken,
      await mailedToken(other.email, 'email_verify'),
    ]) {
      expectProblem(await verify(bad), 400, 'verification_token_invalid');
    }
    for (const json of [{}, { token: '' }, { token: 42 }, { token: 'x'.repeat(513) }, null]) {
      expectProblem(await call('POST', '/auth/email/verify', { json }), 422, 'validation_failed');
    }
    expect((await userRow(user.id)).email_verified_at).toBeNull();
  });

  it('resend: signed in, at most 3 messages an hour (signup’s included), 409 once verified', async () => {
    const user = await createUser();
    expectProblem(await call('POST', '/auth/email/verify/resend'), 401, 'token_missing');
    expect((await resend(user.token)).status).toBe(202);
    expect((await resend(user.token)).status).toBe(202);
    const limited = await resend(user.token);
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(3500);
    const messages = await messagesTo(user.email, 'email_verify');
    expect(messages).toHaveLength(3);
    // Any of them verifies; the others die with it.
    expect((await verify(tokenIn(messages[1]!))).status).toBe(200);
    expectProblem(await verify(tokenIn(messages[2]!)), 400, 'verification_token_invalid');
    expectProblem(await resend(user.token), 409, 'email_already_verified');
  });

  it('concurrent resends never pass the hourly limit', async () => {
    const user = await createUser();
    const answers = await Promise.all(Array.from({ length: 6 }, () => resend(user.token)));
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(2);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(4);
    expect(await messagesTo(user.email, 'email_verify')).toHaveLength(3);
  });

  it('REQUIRE_VERIFIED_EMAIL=true: an unverified account is refused (403 email_unverified), only after the right password', async () => {
    const user = await createUser();
    const settings = { REQUIRE_VERIFIED_EMAIL: 'true' };
    const login = (password: string) =>
      callWithConfig(settings, 'POST', '/auth/login', {}, { json: { email: user.email, password } });
    expectProblem(await login('wrong password'), 401, 'credentials_invalid');
    expectProblem(await login(PASSWORD), 403, 'email_unverified');
    const sessions = await sql()`select count(*)::int as count from sessions where user_id = ${user.id}`;
    expect(sessions[0]!.count).toBe(1);
    // Signed out, the holder cannot ask for a new link: the refusal mails one, within the hourly limit.
    expect(await messagesTo(user.email, 'email_verify')).toHaveLength(2);
    expectProblem(await login(PASSWORD), 403, 'email_unverified');
    expectProblem(await login(PASSWORD), 403, 'email_unverified');
    expect(await messagesTo(user.email, 'email_verify')).toHaveLength(3);
    await verify(await mailedToken(user.email, 'email_verify'));
    expect((await login(PASSWORD)).status).toBe(200);
    // Off (the default), unverified accounts log in as before.
    const other = await createUser();
    expect((await call('POST', '/auth/login', { json: { email: other.email, password: PASSWORD } })).status).toBe(200);
  });
});

describe('POST /auth/me/email', () => {
  it('mails a token to the new address and a notice to the old; the change happens when the token is used', async () => {
    const user = await createUser();
    const newEmail = uniqueEmail('moved');
    const res = await changeEmail(user.token, `  ${newEmail.toUpperCase()}  `);
    expect(res.status).toBe(202);
    expect((await userRow(user.id)).email).toBe(user.email);
    const [notice] = await messagesTo(user.email, 'email_change_notice');
    expect(notice!.text_body).toContain(newEmail);
    expect(notice!.text_body).not.toMatch(/#token=/);
    const token = await mailedToken(newEmail, 'email_change_verify');
    const verified = await verify(token);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ email: newEmail, email_verified_at: expect.any(String) });
    const [changed] = await messagesTo(user.email, 'email_changed');
    expect(changed!.text_body).toContain(newEmail);
    expect((await call('POST', '/auth/login', { json: { email: newEmail, password: PASSWORD } })).status).toBe(200);
    expectProblem(await call('POST', '/auth/login', { json: { email: user.email, password: PASSWORD } }), 401);
    const [event] =
      await sql()`select changes from audit_events where entity_id = ${user.id} and action = 'user.email_change'`;
    expect(event!.changes).toEqual({ email: { old: user.email, new: newEmail } });
    expectProblem(await verify(token), 400, 'verification_token_invalid');
  });

  it('a taken address gets the same answer; its verification then fails with 409 email_taken', async () => {
    const user = await createUser();
    const owner = await createUser();
    const free = await changeEmail(user.token, uniqueEmail('free'));
    const taken = await changeEmail(user.token, owner.email);
    expect(taken.status).toBe(free.status);
    expect(taken.body).toEqual(free.body);
    expectProblem(await verify(await mailedToken(owner.email, 'email_change_verify')), 409, 'email_taken');
    expect((await userRow(user.id)).email).toBe(user.email);
  });

  it('403 for a wrong current password (counted), 422 for its own address or a bad one; a password change ends a pending change', async () => {
    const user = await createUser();
    expectProblem(await changeEmail(user.token, uniqueEmail('x'), 'not my password'), 403, 'current_password_wrong');
    expectProblem(await changeEmail(user.token, user.email.toUpperCase()), 422, 'validation_failed');
    for (const json of [{ new_email: 'nope', current_password: PASSWORD }, { new_email: uniqueEmail() }, null]) {
      expectProblem(await call('POST', '/auth/me/email', { token: user.token, json }), 422, 'validation_failed');
    }
    const newEmail = uniqueEmail('pending');
    expect((await changeEmail(user.token, newEmail)).status).toBe(202);
    const change = await call('POST', '/auth/me/password', {
      token: user.token,
      json: { current_password: PASSWORD, new_password: 'another long passphrase' },
    });
    expect(change.status).toBe(204);
    expectProblem(await verify(await mailedToken(newEmail, 'email_change_verify')), 400, 'verification_token_invalid');
    expect((await userRow(user.id)).email).toBe(user.email);
  });
});
