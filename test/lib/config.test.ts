import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import type { Bindings } from '../../src/env.ts';

const SECRET = 'a-secret-of-at-least-thirty-two-bytes-long!';
const base = (overrides: Partial<Record<keyof Bindings, string | undefined>>) =>
  ({ HYPERDRIVE: env.HYPERDRIVE, JWT_SECRET: SECRET, ...overrides }) as Bindings;

describe('configuration', () => {
  it('defaults to production with the OWASP scrypt policy, 15-minute access tokens and 30-day refresh tokens', () => {
    const config = loadConfig(base({}));
    expect(config.appEnv).toBe('production');
    expect(config.passwordPolicy).toEqual({ algorithm: 'scrypt', logN: 14, r: 8, p: 5 });
    expect(config.jwt.expirySeconds).toBe(900);
    expect(config.sessions.refreshTokenSeconds).toBe(30 * 24 * 3600);
    expect(config.loginThrottle).toEqual({
      failureLimit: 10,
      backoffSeconds: 30,
      accountFailureLimit: 100,
      accountBackoffSeconds: 300,
      trustedNetworkDays: 30,
    });
    expect(config.limits).toEqual({ statesPerProject: 50 });
    expect(config.jwt.issuer).toBe('aegisflow');
  });

  it('refuses a missing secret outside development', () => {
    expect(() => loadConfig(base({ JWT_SECRET: undefined }))).toThrow(/JWT_SECRET is required/);
    expect(() => loadConfig(base({ JWT_SECRET: undefined, APP_ENV: 'test' }))).toThrow(ConfigError);
  });

  it('tolerates a missing secret in development only', () => {
    expect(
      loadConfig(base({ JWT_SECRET: undefined, APP_ENV: 'development' })).jwt.secret.byteLength,
    ).toBeGreaterThanOrEqual(32);
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => loadConfig(base({ JWT_SECRET: 'short' }))).toThrow(/at least 32 bytes/);
    expect(() => loadConfig(base({ JWT_SECRET: 'x'.repeat(31), APP_ENV: 'development' }))).toThrow(/at least 32 bytes/);
  });

  it('refuses malformed numbers and unknown values', () => {
    expect(() => loadConfig(base({ JWT_EXPIRY_MINUTES: 'soon' }))).toThrow(/JWT_EXPIRY_MINUTES/);
    expect(() => loadConfig(base({ JWT_EXPIRY_MINUTES: '0' }))).toThrow(/JWT_EXPIRY_MINUTES/);
    expect(() => loadConfig(base({ APP_ENV: 'staging' }))).toThrow(/APP_ENV/);
    expect(() => loadConfig(base({ PASSWORD_HASH_ALGORITHM: 'md5' }))).toThrow(/PASSWORD_HASH_ALGORITHM/);
  });

  it('refuses PBKDF2 above the 100,000 iterations production Workers accept', () => {
    expect(() =>
      loadConfig(base({ PASSWORD_HASH_ALGORITHM: 'pbkdf2-sha256', PASSWORD_PBKDF2_ITERATIONS: '600000' })),
    ).toThrow(/must not exceed 100000/);
    expect(
      loadConfig(base({ PASSWORD_HASH_ALGORITHM: 'pbkdf2-sha256', PASSWORD_PBKDF2_ITERATIONS: '100000' }))
        .passwordPolicy,
    ).toEqual({ algorithm: 'pbkdf2-sha256', iterations: 100_000 });
  });

  it('refuses scrypt parameters whose memory would not fit a 128 MB isolate', () => {
    // 128 * r * N = 128 * 8 * 2^17 = 128 MiB
    expect(() => loadConfig(base({ PASSWORD_SCRYPT_LOG_N: '17' }))).toThrow(/must not exceed 64 MiB/);
    expect(loadConfig(base({ PASSWORD_SCRYPT_LOG_N: '16' })).passwordPolicy).toMatchObject({ logN: 16 });
  });

  it('refuses parameters below the OWASP floor except in test runs', () => {
    expect(() => loadConfig(base({ PASSWORD_SCRYPT_LOG_N: '10' }))).toThrow(/OWASP/);
    expect(() =>
      loadConfig(base({ PASSWORD_HASH_ALGORITHM: 'pbkdf2-sha256', PASSWORD_PBKDF2_ITERATIONS: '1000' })),
    ).toThrow(/OWASP/);
    expect(loadConfig(base({ APP_ENV: 'test', PASSWORD_SCRYPT_LOG_N: '10' })).passwordPolicy).toMatchObject({
      logN: 10,
    });
  });

  it('takes PUBLIC_URL as an absolute http(s) URL without a trailing slash, and refuses anything else', () => {
    expect(loadConfig(base({})).publicUrl).toBeUndefined();
    expect(loadConfig(base({ PUBLIC_URL: 'https://api.example.com/' })).publicUrl).toBe('https://api.example.com');
    expect(loadConfig(base({ PUBLIC_URL: 'https://example.com/api/v1' })).publicUrl).toBe('https://example.com/api/v1');
    for (const bad of [
      'api.example.com',
      'ftp://api.example.com',
      'https://api.example.com/?x=1',
      'https://user:pw@api.example.com',
      'not a url',
    ]) {
      expect(() => loadConfig(base({ PUBLIC_URL: bad })), bad).toThrow(/PUBLIC_URL/);
    }
  });

  it('parses each env object once', () => {
    const bindings = base({});
    expect(loadConfig(bindings)).toBe(loadConfig(bindings));
  });
});
