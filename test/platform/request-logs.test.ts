import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Bindings } from '../../src/env.ts';
import { BASE_URL, parse, withClientAddress } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createUser, PASSWORD, uniqueEmail } from '../support/users.ts';

/*
 * The request log: one JSON line per request through console.log (Workers Logs indexes it), with the
 * route's pattern and the database work, and never a secret. The suite runs at LOG_LEVEL=error; these
 * tests run the app at the level they name.
 */

let printed: MockInstance<typeof console.log>;
beforeEach(() => {
  printed = vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(() => printed.mockRestore());

/** The lines written so far, parsed (each must be one JSON object). */
const lines = () => printed.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, any>);

interface Sent {
  token?: string;
  json?: unknown;
  headers?: Record<string, string>;
  cf?: Record<string, string>;
}

/** One request to an app running at `level`, as Cloudflare delivers it (with `request.cf` when given). */
async function send(level: string, method: string, path: string, sent: Sent = {}) {
  const headers = withClientAddress(sent.headers);
  if (sent.token) headers.set('Authorization', `Bearer ${sent.token}`);
  if (sent.json !== undefined) headers.set('Content-Type', 'application/json');
  const request = new Request(`${BASE_URL}${path}`, {
    method,
    headers,
    body: sent.json === undefined ? undefined : JSON.stringify(sent.json),
    cf: sent.cf,
  } as RequestInit);
  return parse<any>(await createApp().request(request, undefined, { ...env, LOG_LEVEL: level }));
}

describe('request logs', () => {
  it('one line per request with its id, method, route pattern, status, duration, user, database work and location', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    printed.mockClear();
    const res = await send('info', 'GET', `/projects/${project.id}`, {
      token: owner.token,
      cf: { colo: 'FRA', country: 'DE' },
    });
    expect(res.status).toBe(200);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toEqual({
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      level: 'info',
      message: 'request',
      request_id: res.headers.get('X-Request-Id'),
      method: 'GET',
      route: '/projects/{id}',
      status: 200,
      duration_ms: expect.any(Number),
      user_id: owner.id,
      db_statements: 1,
      db_round_trips: 1,
      colo: 'FRA',
      country: 'DE',
    });
  });

  it('anonymous requests, unknown routes and refusals: no user, the pattern or null, at warn for 4xx', async () => {
    await send('info', 'GET', '/health');
    await send('info', 'GET', '/no/such/route');
    await send('info', 'DELETE', `/projects/${crypto.randomUUID()}/members/${crypto.randomUUID()}`);
    const [health, unknown, refused] = lines();
    expect(health).toMatchObject({
      level: 'info',
      route: '/health',
      status: 200,
      user_id: null,
      db_statements: 0,
      db_round_trips: 0,
    });
    expect(health).not.toHaveProperty('colo');
    expect(unknown).toMatchObject({ level: 'warn', route: null, status: 404 });
    expect(refused).toMatchObject({
      level: 'warn',
      route: '/projects/{id}/members/{user_id}',
      status: 401,
      user_id: null,
    });
  });

  it('LOG_LEVEL drops the lines below it', async () => {
    for (const level of ['warn', 'error']) {
      printed.mockClear();
      await send(level, 'GET', '/health');
      // A preflight is answered before the request's context is set up; LOG_LEVEL holds for it too.
      await send(level, 'OPTIONS', '/auth/me', {
        headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'GET' },
      });
      await send(level, 'GET', '/no/such/route');
      expect(lines().map((line) => line.status)).toEqual(level === 'warn' ? [404] : []);
    }
    expect(() => loadConfig({ ...(env as unknown as Bindings), LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL/);
  });

  it('never logs a password, a token, a refresh token, a body or a query value named like a secret, even at debug', async () => {
    const email = uniqueEmail('logged');
    const secretQuery = 'query-secret-value-1234';
    const signup = await send('debug', 'POST', '/auth/signup', {
      json: { email, password: PASSWORD, full_name: 'Body Text' },
    });
    expect(signup.status).toBe(201);
    const login = await send('debug', 'POST', '/auth/login', { json: { email, password: PASSWORD } });
    const { access_token: accessToken, refresh_token: refreshToken } = login.body;
    await send('debug', 'POST', '/auth/login', { json: { email, password: 'a wrong password' } });
    const refreshed = await send('debug', 'POST', '/auth/refresh', { json: { refresh_token: refreshToken } });
    await send('debug', 'POST', '/auth/refresh', { json: { refresh_token: refreshToken } });
    await send(
      'debug',
      'GET',
      `/projects?limit=5&access_token=${secretQuery}&api_key=${secretQuery}&password=${secretQuery}`,
      { token: accessToken },
    );
    await send('debug', 'POST', '/auth/me/password', {
      token: refreshed.body.access_token,
      json: { current_password: PASSWORD, new_password: 'a brand new password' },
    });
    await send('debug', 'POST', '/auth/logout', { json: { refresh_token: refreshed.body.refresh_token } });

    const written = printed.mock.calls.map(([line]) => String(line));
    expect(written).toHaveLength(8);
    for (const secret of [
      PASSWORD,
      'a wrong password',
      'a brand new password',
      accessToken,
      refreshToken,
      refreshed.body.access_token,
      refreshed.body.refresh_token,
      secretQuery,
      'Body Text',
      email,
      'Bearer',
    ]) {
      for (const line of written) expect(line).not.toContain(secret);
    }
    // At debug the query is there, with secret-named values redacted.
    const listing = lines().find((line) => line.route === '/projects')!;
    expect(listing.query).toEqual({
      limit: '5',
      access_token: '[redacted]',
      api_key: '[redacted]',
      password: '[redacted]',
    });
  });
});
