import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';
import { clientAddress, UNVERIFIED_ADDRESS } from '../lib/client-address.ts';
import { AppError, forbidden } from '../lib/problem.ts';

/** The binding's window (wrangler.toml `period`): how long a limited client should wait at most. */
const PERIOD_SECONDS = 60;

/**
 * Per client IP, with the Workers Rate Limiting binding: the routes that hash passwords, mint tokens or
 * look tokens up without a signed-in caller (login, signup, refresh, logout, password change and reset, email
 * verification, accepting an invitation), each counted
 * on its own. Runs before any hashing or database work. The binding counts per location and
 * approximately; guessing against one account is stopped everywhere by the backoff in PostgreSQL
 * (modules/auth/throttle.ts). Plain workerd (the benchmark) has no such binding; then nothing is limited
 * here.
 *
 * The address is the edge's (lib/client-address.ts). In production a request that did not come through the
 * edge has no address to count, and letting all such clients share one bucket would let one of them lock
 * the rest out, so it is refused.
 */
export const limitPerIp = (
  route: 'login' | 'signup' | 'refresh' | 'logout' | 'password' | 'forgot' | 'reset' | 'verify' | 'invitation',
) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const ip = clientAddress(c.req.raw, c.get('config').appEnv);
    if (ip === UNVERIFIED_ADDRESS && c.get('config').appEnv === 'production') {
      throw forbidden(
        'edge_required',
        'this route accepts requests only through the Cloudflare edge, which names the client address',
      );
    }
    const limiter =
      c.get('config').appEnv === 'development' ? c.env.AUTH_RATE_LIMIT_DEVELOPMENT : c.env.AUTH_RATE_LIMIT;
    if (limiter) {
      const { success } = await limiter.limit({ key: `${route}:${ip}` });
      if (!success) {
        throw new AppError('rate_limited', 'too many requests from this address; retry later', {
          headers: { 'Retry-After': String(PERIOD_SECONDS) },
        });
      }
    }
    await next();
  });
