import { describe, expect, inject, it } from 'vitest';
import { call } from '../support/http.ts';

/** The headless-browser test (test/browser/docs.browser.test.ts) drives the page; this pins what it is served. */
describe('/docs: Swagger UI from our own origin', () => {
  it('serves the page with a CSP that allows only its own scripts and styles, and no inline script', async () => {
    const res = await call('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/html');
    const csp = res.headers.get('Content-Security-Policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    // Every script and stylesheet is a same-origin path; no script element has a body.
    const sources = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(sources.length).toBeGreaterThanOrEqual(4);
    for (const source of sources) expect(source).toMatch(/^\/[a-z]/);
    expect(res.text).not.toMatch(/<script>[^<]/);
  });

  it('configures Swagger UI with deep links, this origin first, and no persisted authorization but the access token', async () => {
    const res = await call('GET', '/docs/swagger-init.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/javascript');
    expect(res.text).toContain("fetch('/openapi.json'");
    expect(res.text).toContain('deepLinking: true');
    // Swagger UI's own persistence would store the password and the refresh token (browser test checks).
    expect(res.text).toContain('persistAuthorization: false');
    expect(res.text).toContain("localStorage.setItem('aegisflow.docs.access_token'");
    expect(res.text).toContain('window.location.origin');
  });

  it('serves the pinned swagger-ui-dist files through the worker, byte for byte', async () => {
    const pinned = inject('swaggerUi');
    const bundle = await call('GET', '/docs-assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('Content-Type')).toMatch(/javascript/);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(bundle.text)));
    expect(Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')).toBe(pinned.bundleSha256);
    expect(bundle.text).toContain(pinned.version);
    // Through the worker, so the security headers apply to the files too.
    expect(bundle.headers.get('X-Content-Type-Options')).toBe('nosniff');
    const css = await call('GET', '/docs-assets/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('Content-Type')).toContain('text/css');
  });

  it('answers an unknown file with a 404 problem', async () => {
    const res = await call('GET', '/docs-assets/nope.js');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toContain('application/problem+json');
  });
});
