import type { AppContext } from '../context.ts';
import { AppError } from '../lib/problem.ts';

/*
 * Every authenticated request counts against its credential (an API key by its id, a session by its user)
 * with the Workers Rate Limiting binding, before any database work: over the quota, 429 `rate_limited` with
 * Retry-After. The binding counts per Cloudflare location and approximately, so a quota holds per location:
 * a client spread over several locations may make up to the quota at each.
 *
 * Every response then carries the IETF RateLimit-Policy and RateLimit fields
 * (draft-ietf-httpapi-ratelimit-headers): the policy (`q` requests per `w` seconds) and what remains (`r`)
 * until the window resets (`t` seconds). The binding answers only yes or no, so `r` is what this isolate has
 * counted in the current window (the binding may have counted more elsewhere): a client that keeps `r` above
 * zero is not guaranteed to avoid a 429, but one that sees it fall knows to slow down.
 */

const POLICY = 'credential';

let window = -1;
const counts = new Map<string, number>();

/** Counts this request against `credential`'s quota; throws 429 over it; answers the fields for the response. */
export async function countAgainstQuota(c: AppContext, credential: string): Promise<Record<string, string>> {
  const { limit, periodSeconds } = c.get('config').apiQuota;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const current = Math.floor(nowSeconds / periodSeconds);
  if (current !== window) {
    counts.clear();
    window = current;
  }
  const count = (counts.get(credential) ?? 0) + 1;
  counts.set(credential, count);
  const reset = String(periodSeconds - (nowSeconds % periodSeconds));
  const policy = `"${POLICY}";q=${limit};w=${periodSeconds}`;
  const limiter = c.env.CREDENTIAL_RATE_LIMIT;
  if (limiter && !(await limiter.limit({ key: credential })).success) {
    throw new AppError('rate_limited', 'this credential has made too many requests; retry later', {
      headers: { 'Retry-After': reset, 'RateLimit-Policy': policy, RateLimit: `"${POLICY}";r=0;t=${reset}` },
    });
  }
  return { 'RateLimit-Policy': policy, RateLimit: `"${POLICY}";r=${Math.max(0, limit - count)};t=${reset}` };
}
