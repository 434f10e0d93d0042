import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hyperdriveCachingProblem, hyperdriveIdFrom } from '../../scripts/lib/hyperdrive.ts';
import { senderProblem } from '../../scripts/lib/mail-sender.ts';
import { quotaProblem } from '../../scripts/lib/quota.ts';

/** `npm run deploy` refuses a Hyperdrive configuration that caches query results (the deploy path cannot be run here). */
describe('the deploy check on Hyperdrive caching', () => {
  const banner = '\n ⛅️ wrangler 4.156.2\n───────────────────\n';
  const configWith = (caching: object) =>
    banner + JSON.stringify({ id: 'abc', name: 'aegisflow', origin: { host: 'db.example.com' }, caching }, null, 2);

  it('accepts only a configuration whose caching is disabled', () => {
    expect(hyperdriveCachingProblem(configWith({ disabled: true }))).toBeUndefined();
    expect(hyperdriveCachingProblem(configWith({}))).toMatch(/caching is enabled/);
    expect(hyperdriveCachingProblem(configWith({ disabled: false, max_age: 60 }))).toMatch(/caching is enabled/);
    expect(hyperdriveCachingProblem(banner + JSON.stringify({ id: 'abc' }))).toMatch(/caching is enabled/);
    expect(hyperdriveCachingProblem('✘ [ERROR] A request to the Cloudflare API failed.')).toMatch(/could not read/);
  });

  it('reads the Hyperdrive id from wrangler.toml, and knows the committed one is a placeholder', () => {
    expect(hyperdriveIdFrom(readFileSync('wrangler.toml', 'utf8'))).toBeUndefined();
    expect(hyperdriveIdFrom('[[hyperdrive]]\nbinding = "HYPERDRIVE"\nid = "0123abcd"\n\n[vars]\nid = "other"\n')).toBe(
      '0123abcd',
    );
    expect(hyperdriveIdFrom('[vars]\nid = "x"\n')).toBeUndefined();
  });
});

/** `npm run deploy` refuses the local placeholder sender, which Cloudflare Email Sending would refuse every time. */
describe('the deploy check on the mail sender', () => {
  it('knows the committed EMAIL_FROM is the local placeholder, and accepts a real one', () => {
    expect(senderProblem(readFileSync('wrangler.toml', 'utf8'))).toMatch(/local placeholder/);
    expect(senderProblem('[vars]\nEMAIL_FROM = "noreply@localhost"\n')).toMatch(/local placeholder/);
    expect(senderProblem('[vars]\nAPP_ENV = "production"\n')).toMatch(/no EMAIL_FROM/);
    expect(senderProblem('[vars]\nEMAIL_FROM = "AegisFlow <noreply@mail.example.com>"\n')).toBeUndefined();
    expect(senderProblem('[vars]\nEMAIL_FROM = "noreply@example.com"\n')).toBeUndefined();
  });
});

/** The per-credential quota's binding and the [vars] that restate it for the RateLimit headers must agree. */
describe('the deploy check on the quota', () => {
  const committed = readFileSync('wrangler.toml', 'utf8');

  it('finds the committed wrangler.toml consistent', () => {
    expect(quotaProblem(committed)).toBeUndefined();
  });

  it('refuses a binding the vars misstate, or none', () => {
    expect(quotaProblem(committed.replace('API_RATE_LIMIT = "1200"', 'API_RATE_LIMIT = "600"'))).toMatch(/counts 1200/);
    expect(quotaProblem(committed.replace('API_RATE_LIMIT_PERIOD = "60"', 'API_RATE_LIMIT_PERIOD = "10"'))).toMatch(
      /per 60 s/,
    );
    expect(quotaProblem(committed.replace('name = "CREDENTIAL_RATE_LIMIT"', 'name = "OTHER"'))).toMatch(
      /no CREDENTIAL/,
    );
  });
});
