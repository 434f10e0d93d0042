import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import { loadConfig } from '../config.ts';
import type { AppEnv } from '../context.ts';

/** JSON answers load nothing and belong in no frame; pages that need more (/docs) set their own policy. */
const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

const headersFor = (production: boolean) =>
  secureHeaders({
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    // Browsers remember HSTS for the whole host, so it is sent only where the API is served over HTTPS.
    strictTransportSecurity: production ? 'max-age=63072000; includeSubDomains' : false,
    // A handler's own value (the /docs policy, an asset's caching) wins.
    overwrite: false,
  });
const productionHeaders = headersFor(true);
const otherHeaders = headersFor(false);

/**
 * Security headers on every response, errors included. Nothing a caller can see may be stored by a
 * browser or a shared cache: every response to a request with credentials, and everything under /auth,
 * is `no-store`, as is any response that does not say otherwise (only public, caller-independent ones,
 * such as the Swagger UI files, do).
 */
export const securityHeaders = createMiddleware<AppEnv>((c, next) =>
  (loadConfig(c.env).appEnv === 'production' ? productionHeaders : otherHeaders)(c, async () => {
    await next();
    if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', API_CONTENT_SECURITY_POLICY);
    const isPrivate =
      c.req.header('Authorization') !== undefined || c.req.path === '/auth' || c.req.path.startsWith('/auth/');
    if (isPrivate || !c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  }),
);
