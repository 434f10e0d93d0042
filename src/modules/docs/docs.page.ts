/**
 * Swagger UI, served entirely from the API's own origin: the page and its initializer come from the
 * worker, the pinned swagger-ui-dist files from Workers static assets under /docs-assets/
 * (scripts/docs-assets.mjs), so the page works offline and under a strict Content-Security-Policy.
 */
export const DOCS_ASSETS_PATH = '/docs-assets';
export const DOCS_INIT_PATH = '/docs/swagger-init.js';

/**
 * Own-origin scripts and styles only, no inline script. Swagger UI's stylesheet draws its icons with
 * data: SVG images; every call it makes (the document, "Try it out", the password login) is same-origin.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AegisFlow API</title>
<link rel="icon" type="image/png" href="${DOCS_ASSETS_PATH}/favicon-32x32.png">
<link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_INIT_PATH}"></script>
</body>
</html>
`;

/**
 * The initializer. The document's `servers` name the development and production URLs, but "Try it out"
 * and the OAuth2 password login should reach the API that served this page (a test server on another
 * port, a preview deployment), so this origin is put first; the others stay selectable.
 */
export const DOCS_INIT_SCRIPT = `'use strict';
(async () => {
  const response = await fetch('/openapi.json', { headers: { Accept: 'application/json' } });
  const spec = await response.json();
  const here = window.location.origin;
  spec.servers = [{ url: here, description: 'This server' }, ...(spec.servers || []).filter((server) => server.url !== here)];
  window.ui = SwaggerUIBundle({
    spec,
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    displayOperationId: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
})();
`;
