import { z } from 'zod';
import type { Bindings } from './env.ts';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { passwordPolicySchema, type PasswordPolicy } from './lib/password.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `npm run dev` serves here; the committed openapi.json lists it, and links in mail default to it. */
export const DEVELOPMENT_SERVER_URL = 'http://127.0.0.1:8787';

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
  JWT_EXPIRY_MINUTES: integerString(1, 24 * 60, 15),
  REFRESH_TOKEN_DAYS: integerString(1, 365, 30),
  LOGIN_FAILURE_LIMIT: integerString(1, 1000, 10),
  LOGIN_BACKOFF_SECONDS: integerString(1, 3600, 30),
  LOGIN_ACCOUNT_FAILURE_LIMIT: integerString(1, 100_000, 100),
  LOGIN_ACCOUNT_BACKOFF_SECONDS: integerString(1, 3600, 300),
  LOGIN_TRUSTED_NETWORK_DAYS: integerString(0, 365, 30),
  JWT_ISSUER: z.string().trim().min(1).max(200).default('aegisflow'),
  JWT_AUDIENCE: z.string().trim().min(1).max(200).default('aegisflow-api'),
  PASSWORD_HASH_ALGORITHM: z.enum(['scrypt', 'pbkdf2-sha256']).default('scrypt'),
  PASSWORD_SCRYPT_LOG_N: integerString(1, 24, 14),
  PASSWORD_SCRYPT_R: integerString(1, 32, 8),
  PASSWORD_SCRYPT_P: integerString(1, 16, 5),
  PASSWORD_PBKDF2_ITERATIONS: integerString(1, 10_000_000, 100_000),
  DATABASE_CONNECT_TIMEOUT_SECONDS: integerString(1, 30, 5),
  REQUEST_TIMEOUT_SECONDS: integerString(1, 60, 10),
  SERVER_TIMING: z.enum(['true', 'false']).default('false'),
  CORS_ORIGINS: z.string().optional(),
  PUBLIC_URL: z.string().trim().optional(),
  AUDIT_RETENTION_DAYS: integerString(1, 36_500, 365),
  // At most 80: every move between 80 states (6,320 pairs) still fits in one 1 MiB request body.
  MAX_STATES_PER_PROJECT: integerString(2, 80, 50),
  LOG_LEVEL: z.enum(LOG_LEVELS, 'must be debug, info, warn or error').default('info'),
  EMAIL_FROM: z.string().trim().optional(),
  APP_URL: z.string().trim().optional(),
  REQUIRE_VERIFIED_EMAIL: z.enum(['true', 'false']).default('false'),
  PASSWORD_RESET_MINUTES: integerString(5, 24 * 60, 30),
  EMAIL_VERIFICATION_HOURS: integerString(1, 24 * 30, 24),
  INVITATION_DAYS: integerString(1, 90, 7),
  MAX_PENDING_INVITATIONS: integerString(1, 10_000, 100),
  INVITATIONS_PER_HOUR: integerString(1, 10_000, 50),
  // What the API_RATE_LIMIT binding of wrangler.toml counts, per credential (the two must agree; checked).
  API_RATE_LIMIT: integerString(1, 1_000_000, 1200),
  API_RATE_LIMIT_PERIOD: z.enum(['10', '60']).default('60').transform(Number),
  MAX_API_KEYS: integerString(1, 1000, 50),
});

export interface AppConfig {
  appEnv: 'development' | 'test' | 'production';
  /** Access tokens: signed with `secret`, `iss` = `issuer`, `aud` = `audience` (both required on the way in), `typ: at+jwt`. */
  jwt: { secret: Uint8Array; expirySeconds: number; issuer: string; audience: string };
  sessions: { refreshTokenSeconds: number };
  /**
   * Password guessing (modules/auth/throttle.ts): after `failureLimit` attempts in a row for one account
   * from one network (and for one user's password change) the next waits `backoffSeconds`, doubling with
   * each further attempt up to an hour; after `accountFailureLimit` for one account from anywhere,
   * networks it has not logged in from in `trustedNetworkDays` wait `accountBackoffSeconds`, doubling.
   */
  loginThrottle: {
    failureLimit: number;
    backoffSeconds: number;
    accountFailureLimit: number;
    accountBackoffSeconds: number;
    trustedNetworkDays: number;
  };
  passwordPolicy: PasswordPolicy;
  databaseConnectTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  serverTiming: boolean;
  cors: CorsConfig;
  /** Where the API is deployed (`PUBLIC_URL`), listed in the OpenAPI document's `servers`. */
  publicUrl: string | undefined;
  /** Signs list cursors (lib/pagination.ts): derived from JWT_SECRET, so no second secret to manage. */
  cursorKey: Uint8Array;
  /** Audit events older than this many days are deleted by the scheduled job (src/index.ts). */
  auditRetentionDays: number;
  /** The least severe request log line written (middleware/request-log.ts). */
  logLevel: LogLevel;
  /** Caps on what a client can grow that is read whole (README, "Limits"). */
  limits: { statesPerProject: number };
  /** Mail (modules/mail) and the account flows it carries (modules/accounts, modules/invitations). */
  mail: MailConfig;
  accounts: AccountsConfig;
  /** Requests each credential may make per period (the API_RATE_LIMIT binding's; middleware/quota.ts). */
  apiQuota: { limit: number; periodSeconds: number };
  /** Live API keys a user may hold at once. */
  maxApiKeys: number;
}

export interface MailConfig {
  /** The sender of every message (`EMAIL_FROM`): `AegisFlow <noreply@example.com>` or a bare address. */
  from: { name: string | undefined; email: string };
  /** Where links in messages point a person's browser (`APP_URL`; else `PUBLIC_URL`, else the dev server). */
  appUrl: string;
  /** The API's own address (`PUBLIC_URL`, else the dev server), for the API calls a message names. */
  apiUrl: string;
}

export interface AccountsConfig {
  /** Login refuses an account whose address is not verified (403 email_unverified), after the right password. */
  requireVerifiedEmail: boolean;
  passwordResetSeconds: number;
  emailVerificationSeconds: number;
  invitationSeconds: number;
  maxPendingInvitations: number;
  invitationsPerHour: number;
}

export interface CorsConfig {
  /** Exact origins (`scheme://host[:port]`) browsers may call the API from. */
  origins: string[];
  /** Development only, and only when no list is configured: any http://localhost, 127.0.0.1 or [::1] port. */
  allowLoopback: boolean;
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
    throw new ConfigError(
      'invalid configuration: JWT_SECRET is required (set it with `wrangler secret put JWT_SECRET`)',
    );
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
    throw new ConfigError(
      `invalid configuration: password hashing: ${policy.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  // Test runs may hash cheaply; anything reachable by real users must meet OWASP's floor.
  if (raw.APP_ENV !== 'test') {
    const weak =
      policy.data.algorithm === 'scrypt'
        ? policy.data.logN < 14 || policy.data.r < 8
        : policy.data.iterations < 100_000;
    if (weak) throw new ConfigError('invalid configuration: password hashing parameters are below the OWASP minimum');
  }

  const publicUrl = raw.PUBLIC_URL ? parseUrl('PUBLIC_URL', raw.PUBLIC_URL) : DEVELOPMENT_SERVER_URL;
  return {
    appEnv: raw.APP_ENV,
    cors: {
      origins: raw.CORS_ORIGINS === undefined ? [] : parseOrigins(raw.CORS_ORIGINS),
      allowLoopback: raw.CORS_ORIGINS === undefined && raw.APP_ENV === 'development',
    },
    publicUrl: raw.PUBLIC_URL ? parseUrl('PUBLIC_URL', raw.PUBLIC_URL) : undefined,
    jwt: {
      secret: secretBytes,
      expirySeconds: raw.JWT_EXPIRY_MINUTES * 60,
      issuer: raw.JWT_ISSUER,
      audience: raw.JWT_AUDIENCE,
    },
    sessions: { refreshTokenSeconds: raw.REFRESH_TOKEN_DAYS * 24 * 60 * 60 },
    loginThrottle: {
      failureLimit: raw.LOGIN_FAILURE_LIMIT,
      backoffSeconds: raw.LOGIN_BACKOFF_SECONDS,
      accountFailureLimit: raw.LOGIN_ACCOUNT_FAILURE_LIMIT,
      accountBackoffSeconds: raw.LOGIN_ACCOUNT_BACKOFF_SECONDS,
      trustedNetworkDays: raw.LOGIN_TRUSTED_NETWORK_DAYS,
    },
    passwordPolicy: policy.data,
    databaseConnectTimeoutSeconds: raw.DATABASE_CONNECT_TIMEOUT_SECONDS,
    requestTimeoutSeconds: raw.REQUEST_TIMEOUT_SECONDS,
    serverTiming: raw.SERVER_TIMING === 'true',
    cursorKey: hmac(sha256, secretBytes, new TextEncoder().encode('aegisflow list cursors v1')),
    auditRetentionDays: raw.AUDIT_RETENTION_DAYS,
    logLevel: raw.LOG_LEVEL,
    limits: { statesPerProject: raw.MAX_STATES_PER_PROJECT },
    mail: {
      from: parseSender(raw.EMAIL_FROM ?? DEFAULT_SENDER),
      appUrl: raw.APP_URL ? parseUrl('APP_URL', raw.APP_URL) : publicUrl,
      apiUrl: publicUrl,
    },
    accounts: {
      requireVerifiedEmail: raw.REQUIRE_VERIFIED_EMAIL === 'true',
      passwordResetSeconds: raw.PASSWORD_RESET_MINUTES * 60,
      emailVerificationSeconds: raw.EMAIL_VERIFICATION_HOURS * 3600,
      invitationSeconds: raw.INVITATION_DAYS * 86_400,
      maxPendingInvitations: raw.MAX_PENDING_INVITATIONS,
      invitationsPerHour: raw.INVITATIONS_PER_HOUR,
    },
    apiQuota: { limit: raw.API_RATE_LIMIT, periodSeconds: raw.API_RATE_LIMIT_PERIOD },
    maxApiKeys: raw.MAX_API_KEYS,
  };
}

/** The sender when `EMAIL_FROM` is not set: fine locally, where `wrangler dev` only records the message. */
const DEFAULT_SENDER = 'AegisFlow <noreply@aegisflow.localhost>';
const SENDER_SHAPE =
  /^(?:(?<name>[^<>"\r\n]{1,100}?)\s*<(?<angled>[^<>\s@]+@[^<>\s@]+)>|(?<bare>[^<>\s@]+@[^<>\s@]+))$/;

function parseSender(value: string): MailConfig['from'] {
  const match = SENDER_SHAPE.exec(value.trim());
  if (!match?.groups) {
    throw new ConfigError(
      `invalid configuration: EMAIL_FROM: "${value}" is not an address such as noreply@example.com or "AegisFlow <noreply@example.com>"`,
    );
  }
  const { name, angled, bare } = match.groups;
  return { name: name?.trim() || undefined, email: (angled ?? bare)!.toLowerCase() };
}

/**
 * `CORS_ORIGINS`: comma-separated exact origins. Each must already be in the form a browser sends in
 * `Origin` (lower-case scheme and host, no default port, no path or trailing slash), because the match
 * is exact; wildcards are refused, since a credential-bearing API must name who may call it.
 */
const ORIGIN_SHAPE = /^https?:\/\/(?:\[[0-9a-f:.]+\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::\d{1,5})?$/;

function parseOrigins(list: string): string[] {
  const origins = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const origin of origins) {
    let canonical: string | undefined;
    try {
      const url = new URL(origin);
      if (url.protocol === 'http:' || url.protocol === 'https:') canonical = url.origin;
    } catch {
      canonical = undefined;
    }
    if (canonical !== origin || !ORIGIN_SHAPE.test(origin)) {
      throw new ConfigError(
        `invalid configuration: CORS_ORIGINS: "${origin}" is not an exact origin such as https://app.example.com${canonical ? ` (did you mean ${canonical}?)` : ''}`,
      );
    }
  }
  return origins;
}

function parseUrl(setting: 'PUBLIC_URL' | 'APP_URL', value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw new ConfigError(
      `invalid configuration: ${setting}: "${value}" is not an absolute http(s) URL without query or fragment`,
    );
  }
  return url.href.replace(/\/+$/, '');
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
