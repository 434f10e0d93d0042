import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Bindings } from '../../src/env.ts';
import { deliverMail } from '../../src/modules/mail/mail.delivery.ts';
import { withOwnDatabase } from '../../src/db/own-database.ts';
import { BASE_URL, parse, withClientAddress } from '../support/http.ts';
import { mailedToken } from '../support/mail.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createUser, PASSWORD, uniqueEmail } from '../support/users.ts';

/* Tokens travel only in the message: no log line, at any level, carries one (nor a message's body). */

const printed: MockInstance<typeof console.log>[] = [];
beforeEach(() => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    printed.push(vi.spyOn(console, method).mockImplementation(() => {}));
  }
});
afterEach(() => printed.splice(0).forEach((spy) => spy.mockRestore()));
const logged = () => printed.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(' '))).join('\n');

async function send(method: string, path: string, json?: unknown, token?: string) {
  const headers = withClientAddress();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (json !== undefined) headers.set('Content-Type', 'application/json');
  const request = new Request(`${BASE_URL}${path}?token=in-the-query`, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return parse<any>(await createApp().request(request, undefined, { ...env, LOG_LEVEL: 'debug' }));
}

describe('tokens in logs', () => {
  it('no log line of the account flows, their failures or the mail delivery holds a token', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const email = uniqueEmail('logs');
    const tokens: string[] = [];
    expect((await send('POST', '/auth/signup', { email, password: PASSWORD })).status).toBe(201);
    tokens.push(await mailedToken(email, 'email_verify'));
    expect((await send('POST', '/auth/password/forgot', { email })).status).toBe(202);
    tokens.push(await mailedToken(email, 'password_reset'));
    expect(
      (await send('POST', `/projects/${project.id}/invitations`, { email, role: 'viewer' }, owner.token)).status,
    ).toBe(202);
    tokens.push(await mailedToken(email, 'invitation'));
    expect((await send('POST', '/auth/email/verify', { token: tokens[0] })).status).toBe(200);
    expect(
      (await send('POST', '/auth/password/reset', { token: tokens[1], new_password: 'logged nowhere phrase' })).status,
    ).toBe(204);
    // Failures too: a used token, a weak password, a token of another kind.
    expect(
      (await send('POST', '/auth/password/reset', { token: tokens[1], new_password: 'logged nowhere phrase' })).status,
    ).toBe(400);
    expect((await send('POST', '/auth/email/verify', { token: tokens[2] })).status).toBe(400);
    const config = loadConfig(env as unknown as Bindings);
    await withOwnDatabase(env as unknown as Bindings, config, (db) => deliverMail(db, env.EMAIL as SendEmail, config));
    const lines = logged();
    expect(lines).toContain('"route":"/auth/password/reset"');
    for (const token of tokens) expect(lines).not.toContain(token);
    expect(lines).not.toContain('in-the-query');
  });
});
