import { Hono } from 'hono';
import type { AppEnv } from '../../context.ts';
import { notFound } from '../../lib/problem.ts';
import {
  DOCS_ASSETS_PATH,
  DOCS_CONTENT_SECURITY_POLICY,
  DOCS_HTML,
  DOCS_INIT_PATH,
  DOCS_INIT_SCRIPT,
} from './docs.page.ts';

// The page and its script change only with a deployment, so browsers revalidate rather than store them.
const REVALIDATE = 'no-cache';

/** Swagger UI at /docs. Not part of the OpenAPI document: it is a page about the API, not the API. */
export const docsRouter = new Hono<AppEnv>()
  .get('/docs', (c) => {
    c.header('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
    c.header('Cache-Control', REVALIDATE);
    return c.html(DOCS_HTML);
  })
  .get(DOCS_INIT_PATH, (c) => {
    c.header('Cache-Control', REVALIDATE);
    return c.body(DOCS_INIT_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  })
  .get(`${DOCS_ASSETS_PATH}/*`, async (c) => {
    // wrangler.toml routes every request to the worker first (run_worker_first), so these files get the
    // same security headers as everything else.
    const response = c.env.ASSETS ? await c.env.ASSETS.fetch(c.req.raw) : undefined;
    if (!response || response.status === 404) throw notFound('file');
    return new Response(response.body, response);
  });
