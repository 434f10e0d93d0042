import { registerHooks } from 'node:module';

const STUB = `data:text/javascript,${encodeURIComponent(
  'export function connect() { throw new Error("Workers sockets are not available in Node; use scripts/lib/node-postgres.ts"); }',
)}`;

let registered = false;

/**
 * Lets Node-side tools import the worker's own modules (the app for its OpenAPI document, services for
 * their rules) although src/db/socket.ts imports `cloudflare:sockets`: that Workers-only module becomes a
 * stub that refuses if called. Tools give the services a Node postgres.js client, so it never is. Must
 * run before those modules are imported, so they are imported dynamically after it.
 */
export function allowWorkerModulesInNode(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    resolve: (specifier, context, next) =>
      specifier.startsWith('cloudflare:') ? { url: STUB, shortCircuit: true } : next(specifier, context),
  });
}
