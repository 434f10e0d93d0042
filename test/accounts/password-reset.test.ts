import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem, passwordHashes } from '../support/http.ts';
import { mailedToken, messagesTo, sentMessage, tokenIn } from '../support/mail.ts';
import { createUser, logInForTokens, PASSWORD, uniqueEmail } from '../support/users.ts';

const NEW_PASSWORD = 'a fresh reset passphrase';
const forgot = (email: string, headers?: Record<string, string>) =>
  call('POST', '/auth/password/forgot', { json: { email }, headers });
const reset = (token: string, newPassword = NEW_PASSWORD) =>
  call('POST', '/auth/password/reset', { json: { token, new_password: newPassword } });
const hashOf = async (userId: string) =>
  ((await sql()`select password_hash from users where id = ${userId}`)[0] as { password_hash: string }).password_hash;

describe('POST /auth/password/forgot', () => {
  it('answers 202 with one body whether or not an active account uses the address; only a real account gets mail', async () => {
    const user = await createUser();
    const inactive = await createUser();
    await sql()`update users set is_active = false where id = ${inactive.id}`;
    const unknown = uniqueEmail('nobody');
    const answers = [await forgot(user.email), await forgot(unknown), await forgot(inactive.email)];
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.body).toEqual(answers[0]!.body);
      // The same work in the database whatever the address: one statement, one round trip.
      expect(databaseTraffic(answer)).toEqual({ statements: 1, roundTrips: 1 });
    }
    expect(await messagesTo(unknown)).toHaveLength(0);
    expect(await messagesTo(inactive.email, 'password_reset')).toHaveLength(0);
    const [message] = await messagesTo(user.email, 'password_reset');
    const token = tokenIn(message!);
    expect(message!.subject).toBe('Reset your AegisFlow password');
    expect(message!.text_body).toContain('http://127.0.0.1:8787/reset-password#token=');
    // The database keeps only the token's digest; the event never names it.
    const tokens = await sql()`select token_hash, kind, expires_at - created_at as lifetime from account_tokens
                               where user_id = ${user.id} and kind = 'password_reset'`;
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.token_hash).not.toBe(token);
    expect(tokens[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const [event] = await sql()`select actor_id, changes::text from audit_events
                                where entity_id = ${user.id} and action = 'user.password_reset_request'`;
    expect(event).toEqual({ actor_id: null, changes: '{}' });
    // Sent after the response, through the EMAIL binding.
    const sent = await sentMessage(message!.id);
    expect(sent.message_id).toBeTruthy();
    expect(sent.attempts).toBe(1);
  });

  it('normalises the address (case, surrounding spaces) and refuses what is not one (422)', async () => {
    const user = await createUser();
    expect((await forgot(`  ${user.email.toUpperCase()} `)).status).toBe(202);
    expect(await messagesTo(user.email, 'password_reset')).toHaveLength(1);
    for (const email of ['', 'not-an-address', 'ünï@', 'a@b\u0000c.com', 'x'.repeat(300) + '@example.com', null, 42]) {
      expectProblem(await call('POST', '/auth/password/forgot', { json: { email } }), 422, 'validation_failed');
    }
    expectProblem(await call('POST', '/auth/password/forgot', { json: null }), 422, 'validation_failed');
  });

  it('a flood for one address from many networks: 202 every time, and no more than 3 messages', async () => {
    const user = await createUser();
    const answers = await Promise.all(Array.from({ length: 12 }, () => forgot(user.email)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(202));
    expect(await messagesTo(user.email, 'password_reset')).toHaveLength(3);
  });

  it('is limited per client address (429 with Retry-After)', async () => {
    const headers = { 'CF-Connecting-IP': `198.51.100.${Math.floor(Math.random() * 250) + 1}` };
    // 20 a minute per address; the binding counts in fixed windows, so a run that straddles a window's end
    // gets up to 20 more before its 429: the first 429 comes after 20 to 40 answers of 202.
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof forgot>> | undefined;
    while (!limited && statuses.length < 41) {
      const res = await forgot(uniqueEmail('flood'), headers);
      if (res.status === 429) limited = res;
      else statuses.push(res.status);
    }
    expectProblem(limited!, 429, 'rate_limited');
    expect(limited!.headers.get('Retry-After')).toBeTruthy();
    expect(statuses.length).toBeGreaterThanOrEqual(20);
    expect(statuses.every((status) => status === 202)).toBe(true);
  });
});

describe('POST /auth/password/reset', () => {
  it('sets the new password, ends every session and access token, spends the token and mails a notice', async () => {
    const user = await createUser();
    const laptop = await logInForTokens(user.email, PASSWORD);
    await forgot(user.email);
    const token = await mailedToken(user.email, 'password_reset');
    const res = await reset(token);
    expect(res.status).toBe(204);
    expect(passwordHashes(res)).toBe(1);
    expectProblem(await call('GET', '/auth/me', { token: user.token }), 401, 'token_invalid');
    expectProblem(await call('POST', '/auth/refresh', { json: { refresh_token: laptop.refresh_token } }), 401);
    expectProblem(await call('POST', '/auth/login', { json: { email: user.email, password: PASSWORD } }), 401);
    expect((await call('POST', '/auth/login', { json: { email: user.email, password: NEW_PASSWORD } })).status).toBe(
      200,
    );
    // Once only.
    expectProblem(await reset(token, 'yet another passphrase'), 400, 'reset_token_invalid');
    const [notice] = await messagesTo(user.email, 'password_changed');
    expect(notice!.text_body).not.toMatch(/#token=/);
    const [event] =
      await sql()`select actor_id from audit_events where entity_id = ${user.id} and action = 'user.password_reset'`;
    expect(event!.actor_id).toBe(user.id);
  });

  it('400 reset_token_invalid, the same for unknown, truncated, padded, expired, used, superseded and other kinds; nothing changes', async () => {
    const user = await createUser();
    const before = await hashOf(user.id);
    await forgot(user.email);
    const token = await mailedToken(user.email, 'password_reset');
    const verification = await mailedToken(user.email, 'email_verify');
    const expired = await createUser();
    await forgot(expired.email);
    const expiredToken = await mailedToken(expired.email, 'password_reset');
    await sql()`update account_tokens set expires_at = now() - interval '1 second' where user_id = ${expired.id}`;
    const changed = await createUser();
    await forgot(changed.email);
    const beforeChange = await mailedToken(changed.email, 'password_reset');
    const change = await call('POST', '/auth/me/password', {
      token: changed.token,
      json: { current_password: PASSWORD, new_password: 'changed meanwhile phrase' },
    });
    expect(change.status).toBe(204);
    const answers = [
      await reset('x'.repeat(43)),
      await reset(token.slice(0, 42)),
      await reset(`${token}=`),
      await reset(` ${token}`),
      await reset(verification),
      await reset(expiredToken),
      await reset(beforeChange),
      await reset('\u202e\u0007'),
    ];
    const bodies = answers.map((answer) => expectProblem(answer, 400, 'reset_token_invalid'));
    expect(new Set(bodies.map((body) => body.detail)).size).toBe(1);
    expect(await hashOf(user.id)).toBe(before);
    // A refused attempt spends nothing: the real token still works.
    expect((await reset(token)).status).toBe(204);
  });

  it('applies the password policy with the account in view (422) and keeps the token for another try', async () => {
    const user = await createUser();
    await forgot(user.email);
    const token = await mailedToken(user.email, 'password_reset');
    expectProblem(await reset(token, 'short'), 422, 'validation_failed');
    expectProblem(await reset(token, 'password123'), 422, 'password_too_weak');
    expectProblem(await reset(token, `${user.email.split('@')[0]}!!`), 422, 'password_too_weak');
    for (const json of [{ token }, { new_password: NEW_PASSWORD }, { token: '', new_password: NEW_PASSWORD }, null]) {
      expectProblem(await call('POST', '/auth/password/reset', { json }), 422, 'validation_failed');
    }
    expect((await reset(token)).status).toBe(204);
  });

  it('a newer reset ends nothing, but a successful reset ends every earlier token', async () => {
    const user = await createUser();
    await forgot(user.email);
    await forgot(user.email);
    const [first, second] = (await messagesTo(user.email, 'password_reset')).map(tokenIn);
    expect((await reset(second!)).status).toBe(204);
    expectProblem(await reset(first!), 400, 'reset_token_invalid');
    const live =
      await sql()`select 1 from account_tokens where user_id = ${user.id} and kind = 'password_reset' and used_at is null`;
    expect(live).toHaveLength(0);
  });

  it('concurrent resets with one token: exactly one succeeds', async () => {
    const user = await createUser();
    await forgot(user.email);
    const token = await mailedToken(user.email, 'password_reset');
    const passwords = Array.from({ length: 6 }, (_, i) => `racing passphrase number ${i}`);
    const answers = await Promise.all(passwords.map((password) => reset(token, password)));
    const winners = answers.flatMap((answer, i) => (answer.status === 204 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const answer of answers) if (answer.status !== 204) expectProblem(answer, 400, 'reset_token_invalid');
    const winner = passwords[winners[0]!]!;
    expect((await call('POST', '/auth/login', { json: { email: user.email, password: winner } })).status).toBe(200);
    const events =
      await sql()`select 1 from audit_events where entity_id = ${user.id} and action = 'user.password_reset'`;
    expect(events).toHaveLength(1);
    expect(await messagesTo(user.email, 'password_changed')).toHaveLength(1);
  });
});
