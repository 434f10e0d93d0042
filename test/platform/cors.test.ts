import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import type { Bindings } from '../../src/env.ts';
import { callWithConfig, expectProblem, runningAs } from '../support/http.ts';

const APP = 'https://app.example.com';
const OTHER_APP = 'http://localhost:3000';
const configured = { CORS_ORIGINS: `${APP}, ${OTHER_APP}` };

const preflight = (origin: string, method = 'GET', headers = 'authorization, content-type') => ({
  Origin: origin,
  'Access-Control-Request-Method': method,
  'Access-Control-Request-Headers': headers,
});

const listOf = (header: string | null) => (header ?? '').split(',').map((entry) => entry.trim().toLowerCase());

describe('CORS', () => {
  it('answers a preflight from an allowed origin with 204, the methods and the request headers it accepts', async () => {
    const res = await callWithConfig(configured, 'OPTIONS', '/auth/me', preflight(APP));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(APP);
    expect(listOf(res.headers.get('Access-Control-Allow-Methods'))).toEqual(
      expect.arrayContaining(['get', 'post', 'put', 'patch', 'delete']),
    );
    expect(listOf(res.headers.get('Access-Control-Allow-Headers'))).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'if-match', 'if-none-match']),
    );
    expect(Number(res.headers.get('Access-Control-Max-Age'))).toBeGreaterThan(0);
    expect(listOf(res.headers.get('Vary'))).toContain('origin');
    // Bearer tokens, not cookies.
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
  });

  it('lets an allowed origin read the answer and the headers a client needs, on errors too', async () => {
    for (const path of ['/health', '/auth/me', '/projects']) {
      const res = await callWithConfig(configured, 'GET', path, { Origin: OTHER_APP });
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe(OTHER_APP);
      expect(listOf(res.headers.get('Access-Control-Expose-Headers'))).toEqual(
        expect.arrayContaining(['x-total-count', 'link', 'etag', 'x-request-id', 'retry-after']),
      );
      expect(listOf(res.headers.get('Vary'))).toContain('origin');
    }
    expectProblem(await callWithConfig(configured, 'GET', '/auth/me', { Origin: APP }), 401);
  });

  it('gives a disallowed or malformed Origin no Access-Control-Allow-Origin, and never a 5xx', async () => {
    const origins = [
      'https://evil.example.com',
      'https://app.example.com.evil.example',
      'https://app.example.com:443',
      `${APP}/`,
      'HTTPS://APP.EXAMPLE.COM',
      'http://app.example.com',
      'null',
      '*',
      'garbage',
      '',
      'https://' + 'a'.repeat(5000) + '.com',
      'http://localhost:3000 http://localhost:3000',
      `${APP}, ${APP}`,
    ];
    for (const origin of origins) {
      for (const res of [
        await callWithConfig(configured, 'OPTIONS', '/auth/me', preflight(origin)),
        await callWithConfig(configured, 'GET', '/health', { Origin: origin }),
      ]) {
        expect(res.status, origin).toBeLessThan(500);
        expect(res.headers.get('Access-Control-Allow-Origin'), origin).toBeNull();
      }
    }
  });

  it('does not offer methods the API does not allow, and treats a bare OPTIONS as a request (405)', async () => {
    for (const method of ['TRACE', 'CONNECT', 'garbage method', '']) {
      const res = await callWithConfig(configured, 'OPTIONS', '/projects', preflight(APP, method));
      expect(res.status).toBe(204);
      expect(listOf(res.headers.get('Access-Control-Allow-Methods'))).not.toContain(method.toLowerCase() || 'x');
    }
    const bare = await callWithConfig(configured, 'OPTIONS', '/projects', { Origin: APP });
    expectProblem(bare, 405);
    expect(bare.headers.get('Allow')).toContain('GET');
  });

  it('allows no origin at all by default in production and test', async () => {
    for (const overrides of [runningAs('production'), { APP_ENV: 'test' }]) {
      const res = await callWithConfig(overrides, 'OPTIONS', '/auth/me', preflight('http://localhost:5173'));
      expect(res.status).toBe(204);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    }
  });

  it('allows loopback dev origins on any port in development when no list is configured', async () => {
    const development = runningAs('development');
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'http://localhost']) {
      const res = await callWithConfig(development, 'OPTIONS', '/auth/me', preflight(origin));
      expect(res.status).toBe(204);
      expect(res.headers.get('Access-Control-Allow-Origin'), origin).toBe(origin);
    }
    for (const origin of [
      'https://localhost:5173',
      'http://localhost.evil.example',
      'http://localhost:5173.evil.example',
      'http://192.168.1.2:3000',
    ]) {
      const res = await callWithConfig(development, 'OPTIONS', '/auth/me', preflight(origin));
      expect(res.headers.get('Access-Control-Allow-Origin'), origin).toBeNull();
    }
    // A configured list replaces the development default.
    const listed = await callWithConfig(
      { ...development, ...configured },
      'OPTIONS',
      '/auth/me',
      preflight('http://localhost:5173'),
    );
    expect(listed.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});

describe('CORS_ORIGINS configuration', () => {
  const withOrigins = (value: string) => ({ ...env, ...runningAs('production'), CORS_ORIGINS: value }) as Bindings;

  it('parses a comma-separated list of exact origins, ignoring spaces and empty entries', () => {
    expect(loadConfig(withOrigins(` ${APP} ,, http://localhost:3000,https://[::1]:8443 `)).cors).toEqual({
      origins: [APP, 'http://localhost:3000', 'https://[::1]:8443'],
      allowLoopback: false,
    });
    expect(loadConfig(withOrigins('')).cors.origins).toEqual([]);
  });

  it('refuses at start-up anything that is not an exact origin, naming it', () => {
    for (const bad of [
      '*',
      'https://*.example.com',
      `${APP}/`,
      `${APP}/path`,
      'https://APP.example.com',
      'https://app.example.com:443',
      'ftp://files.example.com',
      'app.example.com',
      'null',
      `${APP}?x=1`,
    ]) {
      expect(() => loadConfig(withOrigins(`http://localhost:3000,${bad}`)), bad).toThrow(ConfigError);
      expect(() => loadConfig(withOrigins(bad)), bad).toThrow(/CORS_ORIGINS/);
    }
  });
});
