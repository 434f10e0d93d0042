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
 *
 * Swagger UI's own `persistAuthorization` would keep the whole authorization in localStorage, which for the
 * OAuth2 password flow is the password itself and the 30-day refresh token. Instead only the access token
 * (15 minutes) is kept, under DOCS_TOKEN_KEY, and offered again as `bearerAuth` after a reload; logging out
 * in the dialog forgets it. What an earlier version stored under Swagger UI's key is removed.
 */
export const DOCS_TOKEN_KEY = 'aegisflow.docs.access_token';

export const DOCS_INIT_SCRIPT = `'use strict';
(async () => {
  localStorage.removeItem('authorized');
  const keep = (token) => typeof token === 'string' && token !== '' && localStorage.setItem('${DOCS_TOKEN_KEY}', token);
  const keepAccessTokenOnly = () => ({
    statePlugins: {
      auth: {
        wrapActions: {
          authorize: (authorize) => (payload) => {
            keep(payload && payload.bearerAuth && payload.bearerAuth.value);
            return authorize(payload);
          },
          authorizeOauth2: (authorizeOauth2) => (payload) => {
            keep(payload && payload.token && payload.token.access_token);
            return authorizeOauth2(payload);
          },
          logout: (logout) => (names) => {
            localStorage.removeItem('${DOCS_TOKEN_KEY}');
            return logout(names);
          },
        },
      },
    },
  });
  const response = await fetch('/openapi.json', { headers: { Accept: 'application/json' } });
  const spec = await response.json();
  const here = window.location.origin;
  spec.servers = [{ url: here, description: 'This server' }, ...(spec.servers || []).filter((server) => server.url !== here)];
  window.ui = SwaggerUIBundle({
    spec,
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: false,
    displayOperationId: true,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [keepAccessTokenOnly],
    layout: 'BaseLayout',
    onComplete: () => {
      const token = localStorage.getItem('${DOCS_TOKEN_KEY}');
      if (token) window.ui.preauthorizeApiKey('bearerAuth', token);
    },
  });
})();
`;
