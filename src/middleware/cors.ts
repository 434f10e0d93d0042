import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { MiddlewareHandler } from 'hono';
import { loadConfig, type CorsConfig } from '../config.ts';
import type { AppEnv } from '../context.ts';

/** What a browser app may send and read. Bearer tokens, not cookies: no credentials mode is needed. */
export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'X-Request-Id'];
export const CORS_EXPOSED_HEADERS = [
  'X-Total-Count',
  'X-Total-Count-Exceeds',
  'Link',
  'ETag',
  'X-Request-Id',
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
];
/** Seconds a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE = 600;

const LOOPBACK_ORIGIN = /^http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/;

export function isAllowedOrigin(policy: CorsConfig, origin: string): boolean {
  return policy.origins.includes(origin) || (policy.allowLoopback && LOOPBACK_ORIGIN.test(origin));
}

const policies = new WeakMap<CorsConfig, MiddlewareHandler>();

function corsFor(policy: CorsConfig): MiddlewareHandler {
  let handler = policies.get(policy);
  if (!handler) {
    handler = cors({
      // A disallowed or malformed Origin gets no Access-Control-Allow-Origin, so the browser withholds the answer.
      origin: (origin) => (isAllowedOrigin(policy, origin) ? origin : null),
      allowMethods: CORS_ALLOWED_METHODS,
      allowHeaders: CORS_ALLOWED_HEADERS,
      exposeHeaders: CORS_EXPOSED_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE,
    });
    policies.set(policy, handler);
  }
  return handler;
}

/**
 * CORS for browser clients on the origins in `CORS_ORIGINS`. Only a real preflight (OPTIONS with
 * `Access-Control-Request-Method`) is answered here with 204; any other OPTIONS request goes on to the
 * routes and gets the usual 405 with `Allow`.
 */
export const corsPolicy = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method') === undefined) return next();
  return corsFor(loadConfig(c.env).cors)(c, next);
});
