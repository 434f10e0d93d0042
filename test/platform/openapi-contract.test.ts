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

  it('says security: [] on public operations and asks for a bearer token everywhere else', async () => {
    for (const { where, operation } of await operations()) {
      if (PUBLIC_OPERATIONS.includes(operation.operationId)) expect(operation.security, where).toEqual([]);
      else expect(operation.security, where).toEqual([{ bearerAuth: [] }, { oauth2Password: [] }]);
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
