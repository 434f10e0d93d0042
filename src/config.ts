import { z } from 'zod';
import type { Bindings } from './env.ts';
import { passwordPolicySchema, type PasswordPolicy } from './lib/password.ts';

const DEVELOPMENT_JWT_SECRET = 'development-only-secret-never-use-in-production-0123456789';

const integerString = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .transform((value) => value ?? fallback);

const rawConfigSchema = z.object({
  APP_ENV: z.enum(['development', 'test', 'production']).default('production'),
  JWT_SECRET: z.string().optional(),
  JWT_EXPIRY_MINUTES: integerString(1, 24 * 60, 60),
  JWT_ISSUER: z.string().trim().min(1).max(200).default('aegisflow'),
  PASSWORD_HASH_ALGORITHM: z.enum(['scrypt', 'pbkdf2-sha256']).default('scrypt'),
  PASSWORD_SCRYPT_LOG_N: integerString(1, 24, 14),
  PASSWORD_SCRYPT_R: integerString(1, 32, 8),
  PASSWORD_SCRYPT_P: integerString(1, 16, 5),
  PASSWORD_PBKDF2_ITERATIONS: integerString(1, 10_000_000, 100_000),
  DATABASE_CONNECT_TIMEOUT_SECONDS: integerString(1, 30, 5),
  REQUEST_TIMEOUT_SECONDS: integerString(1, 60, 10),
  SERVER_TIMING: z.enum(['true', 'false']).default('false'),
});

export interface AppConfig {
  appEnv: 'development' | 'test' | 'production';
  jwt: { secret: Uint8Array; expirySeconds: number; issuer: string };
  passwordPolicy: PasswordPolicy;
  databaseConnectTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  serverTiming: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function buildConfig(env: Bindings): AppConfig {
  const parsed = rawConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const raw = parsed.data;

  // A missing secret is only tolerated where tokens never leave the developer's machine.
  const secret = raw.JWT_SECRET ?? (raw.APP_ENV === 'development' ? DEVELOPMENT_JWT_SECRET : undefined);
  if (secret === undefined) {
    throw new ConfigError('invalid configuration: JWT_SECRET is required (set it with `wrangler secret put JWT_SECRET`)');
  }
  const secretBytes = new TextEncoder().encode(secret);
  if (secretBytes.byteLength < 32) {
    throw new ConfigError('invalid configuration: JWT_SECRET must be at least 32 bytes');
  }

  const policy = passwordPolicySchema.safeParse(
    raw.PASSWORD_HASH_ALGORITHM === 'scrypt'
      ? { algorithm: 'scrypt', logN: raw.PASSWORD_SCRYPT_LOG_N, r: raw.PASSWORD_SCRYPT_R, p: raw.PASSWORD_SCRYPT_P }
      : { algorithm: 'pbkdf2-sha256', iterations: raw.PASSWORD_PBKDF2_ITERATIONS },
  );
  if (!policy.success) {
    throw new ConfigError(`invalid configuration: password hashing: ${policy.error.issues.map((i) => i.message).join('; ')}`);
  }
  // Test runs may hash cheaply; anything reachable by real users must meet OWASP's floor.
  if (raw.APP_ENV !== 'test') {
    const weak = policy.data.algorithm === 'scrypt' ? policy.data.logN < 14 || policy.data.r < 8 : policy.data.iterations < 100_000;
    if (weak) throw new ConfigError('invalid configuration: password hashing parameters are below the OWASP minimum');
  }

  return {
    appEnv: raw.APP_ENV,
    jwt: { secret: secretBytes, expirySeconds: raw.JWT_EXPIRY_MINUTES * 60, issuer: raw.JWT_ISSUER },
    passwordPolicy: policy.data,
    databaseConnectTimeoutSeconds: raw.DATABASE_CONNECT_TIMEOUT_SECONDS,
    requestTimeoutSeconds: raw.REQUEST_TIMEOUT_SECONDS,
    serverTiming: raw.SERVER_TIMING === 'true',
  };
}

// workerd hands every request of an isolate the same env object, so this parses once per isolate.
const cache = new WeakMap<object, AppConfig>();

export function loadConfig(env: Bindings): AppConfig {
  let config = cache.get(env);
  if (!config) {
    config = buildConfig(env);
    cache.set(env, config);
  }
  return config;
}
