import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app.ts';
import { call, expectProblem, parse } from '../support/http.ts';

describe('health', () => {
  it('GET /health answers without touching the database', async () => {
    const res = await call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers.get('Server-Timing')).toContain('dur=0');
  });

  it('GET /health/ready runs one query against the database', async () => {
    const res = await call('GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', database: 'ok' });
    expect(res.headers.get('Server-Timing')).toContain('dur=1');
  });
});

describe('request ids', () => {
  it('generates one when the client sends none', async () => {
    const res = await call('GET', '/health');
    expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("never takes the client's id: the server's own names the request, on errors too", async () => {
    const res = await call('GET', '/nope', { headers: { 'X-Request-Id': 'client-trace-123' } });
    expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(expectProblem(res, 404).request_id).toBe(res.headers.get('X-Request-Id'));
  });

  it('replaces an id with odd characters or excessive length', async () => {
    for (const bad of ['has space', 'quote"inside', 'x'.repeat(500)]) {
      const res = await call('GET', '/health', { headers: { 'X-Request-Id': bad } });
      expect(res.headers.get('X-Request-Id')).not.toBe(bad);
      expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('errors are problem+json', () => {
  it('unknown route -> 404', async () => {
    expectProblem(await call('GET', '/definitely/not/here'), 404);
  });

  it('known path, wrong method -> 405 with Allow', async () => {
    const res = await call('DELETE', '/auth/me');
    expectProblem(res, 405);
    expect(res.headers.get('Allow')).toContain('GET');
  });

  it('malformed JSON -> 400 and nothing created', async () => {
    const res = await call('POST', '/auth/signup', {
      body: '{"email": "x@example.com", "password": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expectProblem(res, 400);
  });

  it('validation failure -> 422 with errors[]', async () => {
    const res = await call('POST', '/auth/signup', { json: { email: 'not-an-email', password: 1 } });
    const problem = expectProblem(res, 422);
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'body.email' }),
        expect.objectContaining({ path: 'body.password' }),
      ]),
    );
  });

  it('body over 1 MiB -> 413', async () => {
    const res = await call('POST', '/auth/signup', {
      body: JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(1024 * 1024 + 10) }),
      headers: { 'Content-Type': 'application/json' },
    });
    expectProblem(res, 413);
  });

  it('wrong content type -> 415', async () => {
    const res = await call('POST', '/auth/signup', {
      body: JSON.stringify({ email: 'ct@example.com', password: 'plum orchard 7' }),
      headers: { 'Content-Type': 'text/plain' },
    });
    expectProblem(res, 415);
  });

  it('an unexpected throw -> 500 without internals, its request line at error with the error and its stack', async () => {
    const app = createApp();
    app.get('/explode', () => {
      throw new Error('secret internal detail: select * from users');
    });
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const res = await parse(await app.request('/explode', { headers: { 'X-Request-Id': 'boom-1' } }, env));
    const problem = expectProblem(res, 500);
    expect(res.text).not.toContain('secret');
    expect(res.text).not.toContain('select');
    expect(problem.request_id).toMatch(/^[0-9a-f-]{36}$/);
    const line = JSON.parse(String(logged.mock.calls.at(-1)?.[0]));
    expect(logged).toHaveBeenCalledTimes(1);
    // The client's id is logged apart, for correlation.
    expect(line).toMatchObject({
      level: 'error',
      message: 'request',
      request_id: problem.request_id,
      client_request_id: 'boom-1',
      method: 'GET',
      route: '/explode',
      status: 500,
    });
    expect(line.error).toMatchObject({ type: 'Error', message: 'secret internal detail: select * from users' });
    expect(line.error.stack).toContain('secret internal detail');
    logged.mockRestore();
  });
});

describe('OpenAPI and docs', () => {
  it('serves an OpenAPI 3.1 document with a bearer scheme and every route', async () => {
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.oauth2Password.flows.password.tokenUrl).toBe('/auth/login');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/auth/admin/audit',
        '/auth/admin/users',
        '/auth/admin/users/{id}',
        '/auth/admin/users/{id}/role',
        '/auth/admin/users/{id}/status',
        '/auth/admin/users/{id}/api-keys',
        '/auth/admin/users/{id}/api-keys/{key_id}',
        '/auth/api-keys',
        '/auth/api-keys/{id}',
        '/auth/credential',
        '/auth/login',
        '/auth/me',
        '/auth/me/password',
        '/auth/me/email',
        '/auth/password/forgot',
        '/auth/password/reset',
        '/auth/email/verify',
        '/auth/email/verify/resend',
        '/invitations',
        '/invitations/accept',
        '/invitations/{id}/accept',
        '/projects/{id}/invitations',
        '/projects/{id}/invitations/{invitation_id}',
        '/auth/refresh',
        '/auth/logout',
        '/auth/logout-all',
        '/auth/sessions',
        '/auth/sessions/{id}',
        '/auth/signup',
        '/health',
        '/health/ready',
        '/projects',
        '/projects/{id}',
        '/projects/{id}/restore',
        '/projects/{id}/activity',
        '/projects/{id}/members',
        '/projects/{id}/members/{user_id}',
        '/projects/{id}/transfer',
        '/projects/{id}/states',
        '/projects/{id}/states/{state_id}',
        '/projects/{id}/transitions',
        '/projects/{id}/tasks',
        '/tasks',
        '/tasks/{id}',
        '/tasks/{id}/restore',
        '/tasks/{id}/transition',
        '/tasks/{id}/history',
      ].sort(),
    );
    expect(doc.paths['/auth/me'].get.security).toEqual([{ bearerAuth: [] }, { oauth2Password: [] }, { apiKey: [] }]);
    expect(doc.paths['/auth/api-keys'].post.security).toEqual([{ bearerAuth: [] }, { oauth2Password: [] }]);
    // Every operation declares its problem responses.
    for (const [path, operations] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        for (const status of ['400', '413', '415', '422', '500', '503']) {
          expect(operation.responses[status], `${method} ${path} declares ${status}`).toBeDefined();
        }
      }
    }
  });
});
