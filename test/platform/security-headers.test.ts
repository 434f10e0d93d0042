import { describe, expect, it } from 'vitest';
import { call, callWithConfig, runningAs, type ApiResponse } from '../support/http.ts';
import { createUser } from '../support/users.ts';

function expectSecurityHeaders(res: ApiResponse, what: string) {
  expect(res.headers.get('X-Content-Type-Options'), what).toBe('nosniff');
  expect(res.headers.get('Referrer-Policy'), what).toBe('no-referrer');
  expect(res.headers.get('X-Frame-Options'), what).toBe('DENY');
  expect(res.headers.get('Content-Security-Policy'), what).toContain("frame-ancestors 'none'");
}

describe('security headers', () => {
  it('are on every response: success, errors, docs, preflights', async () => {
    const user = await createUser();
    const responses: [string, ApiResponse][] = [
      ['health', await call('GET', '/health')],
      ['openapi', await call('GET', '/openapi.json')],
      ['docs', await call('GET', '/docs')],
      ['asset', await call('GET', '/docs-assets/swagger-ui.css')],
      ['me', await call('GET', '/auth/me', { token: user.token })],
      ['401', await call('GET', '/projects')],
      ['404', await call('GET', '/no/such/route')],
      ['405', await call('DELETE', '/health')],
      ['422', await call('POST', '/projects', { token: user.token, json: {} })],
      [
        'preflight',
        await call('OPTIONS', '/projects', {
          headers: { Origin: 'https://x.example', 'Access-Control-Request-Method': 'GET' },
        }),
      ],
    ];
    for (const [what, res] of responses) expectSecurityHeaders(res, what);
  });

  it('send Strict-Transport-Security only when APP_ENV=production', async () => {
    const production = await callWithConfig(runningAs('production'), 'GET', '/health');
    expect(production.headers.get('Strict-Transport-Security')).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
    expectSecurityHeaders(production, 'production');
    const development = await callWithConfig(runningAs('development'), 'GET', '/health');
    expect(development.headers.get('Strict-Transport-Security')).toBeNull();
    expect((await call('GET', '/health')).headers.get('Strict-Transport-Security')).toBeNull();
  });
});

describe('Cache-Control', () => {
  it('is no-store on every authenticated response, refusals included', async () => {
    const user = await createUser();
    const project = await call('POST', '/projects', { token: user.token, json: { name: 'Cached?' } });
    const responses = [
      await call('GET', '/auth/me', { token: user.token }),
      await call('GET', '/projects', { token: user.token }),
      project,
      await call('GET', `/projects/${project.body.id}`, { token: user.token }),
      await call('GET', `/projects/${project.body.id}`, {
        token: user.token,
        headers: { 'If-None-Match': project.headers.get('ETag')! },
      }),
      await call('GET', '/auth/admin/users', { token: user.token }),
      await call('GET', '/projects', { token: 'not.a.token' }),
      // Even where the route itself is public: a response to a request with credentials is private.
      await call('GET', '/health', { token: user.token }),
      await call('GET', '/openapi.json', { token: user.token }),
    ];
    for (const res of responses)
      expect(res.headers.get('Cache-Control'), `${res.status} ${res.text.slice(0, 80)}`).toBe('no-store');
  });

  it('is no-store on everything under /auth', async () => {
    const email = `cache-${crypto.randomUUID()}@example.com`;
    const responses = [
      await call('POST', '/auth/signup', { json: { email, password: 'correct horse battery' } }),
      await call('POST', '/auth/login', { json: { email, password: 'correct horse battery' } }),
      await call('POST', '/auth/login', { json: { email, password: 'wrong password here' } }),
      await call('GET', '/auth/me'),
      await call('GET', '/auth/nothing-here'),
    ];
    for (const res of responses) expect(res.headers.get('Cache-Control'), String(res.status)).toBe('no-store');
  });

  it('lets public, caller-independent answers be revalidated instead', async () => {
    expect((await call('GET', '/openapi.json')).headers.get('Cache-Control')).toBe('no-cache');
    expect((await call('GET', '/docs')).headers.get('Cache-Control')).toBe('no-cache');
    expect((await call('GET', '/health')).headers.get('Cache-Control')).toBe('no-store');
  });
});
