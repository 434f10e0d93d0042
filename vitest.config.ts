import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Every setting is given here, so a developer's .dev.vars cannot change what the tests see. Cheap hashing
// keeps the suite fast; the production parameters are exercised by the benchmark. The secret exists only
// for this run.
const testBindings = {
  APP_ENV: 'test',
  JWT_SECRET: `test-secret-${crypto.randomUUID()}-${crypto.randomUUID()}`,
  JWT_EXPIRY_MINUTES: '60',
  JWT_ISSUER: 'aegisflow-test',
  PASSWORD_HASH_ALGORITHM: 'scrypt',
  PASSWORD_SCRYPT_LOG_N: '10',
  PASSWORD_SCRYPT_R: '8',
  PASSWORD_SCRYPT_P: '1',
  DATABASE_CONNECT_TIMEOUT_SECONDS: '2',
  REQUEST_TIMEOUT_SECONDS: '10',
  SERVER_TIMING: 'true',
  // One request line per request would bury the test report; the log tests turn `info` back on.
  LOG_LEVEL: 'error',
  // The suite sends thousands of requests with one user's credentials; the quota tests use the tight binding.
  API_RATE_LIMIT: '1000000',
};

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    // Some rules are global to the database (the last active admin), so files run one after another.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        // The API, inside workerd, against the real database through the Hyperdrive binding.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { ...testBindings, PROXY_CONTROL_URL: inject('proxyControlUrl') },
              // The mail binding wrangler.toml declares, and one that refuses every address but one, so a
              // test can make a send fail as a refused send does in production.
              email: {
                send_email: [
                  { name: 'EMAIL' },
                  { name: 'EMAIL_REFUSING', allowed_destination_addresses: ['nobody@aegisflow.invalid'] },
                ],
              },
              // The per-credential quota loose for the suite, and a tight one (3 a minute) for the quota tests.
              ratelimits: {
                CREDENTIAL_RATE_LIMIT: { namespace_id: '1003', simple: { limit: 1_000_000, period: 60 } },
                CREDENTIAL_RATE_LIMIT_TIGHT: { namespace_id: '1004', simple: { limit: 3, period: 60 } },
              },
              hyperdrives: {
                HYPERDRIVE: inject('databaseUrl'),
                // Outage tests: the same database behind a proxy they can stop, and an address nothing listens on.
                HYPERDRIVE_VIA_PROXY: inject('proxiedDatabaseUrl'),
                HYPERDRIVE_NOWHERE: 'postgres://postgres:nothing@127.0.0.1:9/nowhere',
              },
            },
          })),
        ],
        test: { name: 'worker', include: ['test/**/*.test.ts'], exclude: ['test/cli/**', 'test/browser/**'] },
      },
      {
        // Command-line tools, in Node, against the same database.
        test: { name: 'cli', include: ['test/cli/**/*.test.ts'], environment: 'node' },
      },
    ],
  },
});
