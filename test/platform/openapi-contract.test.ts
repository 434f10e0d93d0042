import { describe, expect, it } from 'vitest';
import committed from '../../openapi.json';
import { call, callWithConfig, runningAs } from '../support/http.ts';

const PUBLIC_OPERATIONS = [
  'checkLiveness',
  'checkReadiness',
  'signUp',
  'logIn',
  'refreshSession',
  'logOut',
  'forgotPassword',
  'resetPassword',
  'verifyEmail',
];
/** The session and key routes: a key can never end sessions, change the password, or make, list or revoke keys. */
const SESSION_ONLY_OPERATIONS = [
  'logOutEverywhere',
  'listSessions',
  'revokeSession',
  'changePassword',
  'createApiKey',
  'listApiKeys',
  'revokeApiKey',
  'listUserApiKeys',
  'revokeUserApiKey',
];
const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options', 'trace'];

async function operations() {
  const doc = (await call('GET', '/openapi.json')).body;
  return Object.entries<Record<string, any>>(doc.paths).flatMap(([path, item]) =>
    Object.entries<any>(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, operation })),
  );
}

describe('the OpenAPI contract', () => {
  it('is the committed openapi.json, exactly (run `npm run openapi` after changing a route)', async () => {
    expect((await call('GET', '/openapi.json')).body).toEqual(committed);
  });

  it('gives every operation a unique camelCase operationId', async () => {
    const all = await operations();
    expect(all.length).toBeGreaterThanOrEqual(16);
    const ids = all.map(({ where, operation }) => {
      expect(operation.operationId, where).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      return operation.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('says security: [] on public operations, a session on the session and key routes, and a session or a key everywhere else', async () => {
    for (const { where, operation } of await operations()) {
      if (PUBLIC_OPERATIONS.includes(operation.operationId)) expect(operation.security, where).toEqual([]);
      else if (SESSION_ONLY_OPERATIONS.includes(operation.operationId)) {
        expect(operation.security, where).toEqual([{ bearerAuth: [] }, { oauth2Password: [] }]);
        expect(operation['x-required-scope'], where).toBeUndefined();
      } else {
        expect(operation.security, where).toEqual([{ bearerAuth: [] }, { oauth2Password: [] }, { apiKey: [] }]);
        // Every route a key may call names its scope, but the caller's own profile and credential.
        if (!['getCurrentUser', 'getCredential'].includes(operation.operationId)) {
          expect(operation['x-required-scope'], where).toBeDefined();
        }
      }
    }
  });

  it('names the development server, a licence and a contact; PUBLIC_URL adds production first', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.servers).toEqual([{ url: 'http://127.0.0.1:8787', description: expect.any(String) }]);
    expect(doc.info.license.name).toBeTruthy();
    expect(doc.info.contact.name).toBeTruthy();
    const deployed = await callWithConfig(
      { ...runningAs('production'), JWT_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://api.example.com/' },
      'GET',
      '/openapi.json',
    );
    expect(deployed.body.servers.map((server: { url: string }) => server.url)).toEqual([
      'https://api.example.com',
      'http://127.0.0.1:8787',
    ]);
  });
});
