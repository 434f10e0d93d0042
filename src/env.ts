/** Worker bindings as declared in wrangler.toml (vars are strings; secrets come from `wrangler secret put`). */
export interface Bindings {
  HYPERDRIVE: Hyperdrive;
  /** Workers static assets (wrangler.toml [assets]): the pinned Swagger UI files. Absent on plain workerd (the benchmark). */
  ASSETS?: Fetcher;
  APP_ENV?: string;
  JWT_SECRET?: string;
  JWT_EXPIRY_MINUTES?: string;
  REFRESH_TOKEN_DAYS?: string;
  LOGIN_FAILURE_LIMIT?: string;
  LOGIN_BACKOFF_SECONDS?: string;
  LOGIN_ACCOUNT_FAILURE_LIMIT?: string;
  MAX_STATES_PER_PROJECT?: string;
  LOGIN_ACCOUNT_BACKOFF_SECONDS?: string;
  LOGIN_TRUSTED_NETWORK_DAYS?: string;
  /** Per-IP limits on login, signup, refresh and password change (wrangler.toml [[ratelimits]]): strict, and loose for APP_ENV=development. */
  AUTH_RATE_LIMIT?: RateLimit;
  AUTH_RATE_LIMIT_DEVELOPMENT?: RateLimit;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  PASSWORD_HASH_ALGORITHM?: string;
  PASSWORD_SCRYPT_LOG_N?: string;
  PASSWORD_SCRYPT_R?: string;
  PASSWORD_SCRYPT_P?: string;
  PASSWORD_PBKDF2_ITERATIONS?: string;
  DATABASE_CONNECT_TIMEOUT_SECONDS?: string;
  REQUEST_TIMEOUT_SECONDS?: string;
  SERVER_TIMING?: string;
  CORS_ORIGINS?: string;
  PUBLIC_URL?: string;
  AUDIT_RETENTION_DAYS?: string;
  LOG_LEVEL?: string;
  /** The platform's mail (wrangler.toml [[send_email]]); `wrangler dev` and the tests record what it is given. */
  EMAIL?: SendEmail;
  EMAIL_FROM?: string;
  APP_URL?: string;
  REQUIRE_VERIFIED_EMAIL?: string;
  PASSWORD_RESET_MINUTES?: string;
  EMAIL_VERIFICATION_HOURS?: string;
  INVITATION_DAYS?: string;
  MAX_PENDING_INVITATIONS?: string;
  INVITATIONS_PER_HOUR?: string;
  /** Every authenticated request, per credential (wrangler.toml [[ratelimits]]); its limit and period restated as vars. */
  CREDENTIAL_RATE_LIMIT?: RateLimit;
  API_RATE_LIMIT?: string;
  API_RATE_LIMIT_PERIOD?: string;
  MAX_API_KEYS?: string;
}
