import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';
import { AppError } from '../lib/problem.ts';

/** The binding's window (wrangler.toml `period`): how long a limited client should wait at most. */
const PERIOD_SECONDS = 60;

/**
 * Per client IP, with the Workers Rate Limiting binding: the routes that hash passwords or mint tokens
 * (login, signup, refresh, password change), each counted on its own. Runs before any hashing or database
 * work. The binding counts per location and approximately; brute force against one account is stopped
 * everywhere by the per-account backoff in PostgreSQL (modules/auth/login-throttle.ts). Plain workerd (the
 * benchmark) has no such binding; then nothing is limited here.
 */
export const limitPerIp = (route: 'login' | 'signup' | 'refresh' | 'password') =>
  createMiddleware<AppEnv>(async (c, next) => {
    const limiter = c.get('config').appEnv === 'development' ? c.env.AUTH_RATE_LIMIT_DEVELOPMENT : c.env.AUTH_RATE_LIMIT;
    if (limiter) {
      const ip = c.req.header('CF-Connecting-IP') ?? 'unknown';
      const { success } = await limiter.limit({ key: `${route}:${ip}` });
      if (!success) {
        throw new AppError(429, 'too many requests from this address; retry later', { headers: { 'Retry-After': String(PERIOD_SECONDS) } });
      }
    }
    await next();
  });
