import { describe, expect, it } from 'vitest';
import { call } from '../support/http.ts';
import { createUser } from '../support/users.ts';
import { SCOPES } from '../../src/lib/api-keys.ts';

/**
 * Every route in the OpenAPI document, probed with generated hostile input as an authenticated admin
 * (so requests get past auth and reach validation and the services). Nothing may answer 5xx, and every
 * error must be problem+json.
 */
const BODIES: (string | undefined)[] = [
  undefined,
  '',
  'null',
  'true',
  '0',
  '"string"',
  '[]',
  '{}',
  '{"name": null, "description": null, "email": null, "password": null, "role": null, "is_active": null}',
  '{"name": 1, "description": [], "email": {}, "password": true, "role": 7, "is_active": "yes"}',
  `{"name": "${'\\u0000'.repeat(3)}", "email": "a\\u0000@b.c", "password": "\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000"}`,
  `{"name": "${'x'.repeat(100_000)}", "description": "${'y'.repeat(100_000)}", "full_name": "${'z'.repeat(100_000)}"}`,
  '{"name": "\\ud800", "description": "\\udfff", "email": "\\ud83d@example.com", "password": "\\ud800\\ud800\\ud800\\ud800"}',
  '{"name": "ok", "__proto__": {"admin": true}, "constructor": {"prototype": {"role": "admin"}}}',
  '{"is_active": 1e400, "role": "admin\\u0000", "name": -0}',
  '['.repeat(5000) + ']'.repeat(5000),
  '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
  '{"email": "x@example.com", "password": "plum orchard 7"',
  '\u00ff\u00fe\u0000garbage',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
];
const PATH_IDS = [
  '00000000-0000-0000-0000-000000000000',
  'not-a-uuid',
  '%00',
  '%',
  '%E0%A4%A',
  '..',
  '%2e%2e%2f',
  "1'or'1'='1",
  'x'.repeat(5000),
  '%F0%9F%92%A9',
  'null',
  '-1',
];
const QUERIES = [
  'limit=-1',
  'limit=999999999999999999999',
  'limit=NaN',
  'limit=Infinity',
  'limit=0x10',
  'offset=1e308',
  'limit=1&limit=2',
  'limit[]=1',
  'q=%00',
  'q=%',
  `q=${'%25'.repeat(300)}`,
  'q=%E0%A4%A',
  'sort=__proto__',
  'role=admin%00',
  'is_active=TRUE',
  'owner_id=%27',
  'include_deleted=',
  `${'a'.repeat(3000)}=1`,
  'cursor=garbage',
  'cursor=%00',
  `cursor=${'a'.repeat(2000)}`,
  'cursor=e30',
  `cursor=${btoa(JSON.stringify({ s: 'projects:-created_at', k: ['not a timestamp', '00000000-0000-0000-0000-000000000000'] }))}`,
  `cursor=${btoa(JSON.stringify({ s: 'users:-created_at', k: ['2026-01-01 00:00:00+00', 'x'] }))}`,
  'cursor=eyJzIjoiYWRkZWRfYXQiLCJrIjpbIjIwMjYiLCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiXX0&offset=3',
  'role=owner%00',
  'role=admin',
  'since=garbage',
  'since=0000-01-01T00:00:00Z',
  'until=2026-02-30T00:00:00Z',
  'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z',
  'since=9999-12-31T23:59:59.999999999Z',
  'since=2026-01-01T00:00:00',
  'until=%2B275760-09-13T00:00:00Z',
  'action=project.%00',
  'action=*',
  'action=project.',
  'entity_type=__proto__',
  'actor_id=x&entity_id=%27&project_id=',
];
const AUTH_HEADERS = [
  'Bearer ' + 'a'.repeat(10_000),
  'Bearer a.b.c',
  'Basic dXNlcjpwYXNz',
  'Bearer \u00e9\u00e9.\u00e9.\u00e9',
  'Bearer afk_' + 'a'.repeat(97),
  'Bearer afk_' + 'z'.repeat(97),
  'Bearer afk_' + 'a'.repeat(10_000),
  'Bearer afk_\u00e9' + 'a'.repeat(96),
  'Bearer afk_',
  'Bearer  afk_' + '0'.repeat(97),
];

// The routes of the OpenAPI contract; the test below checks this list against /openapi.json.
const ROUTES = [
  ['GET', '/health'],
  ['GET', '/health/ready'],
  ['POST', '/auth/signup'],
  ['POST', '/auth/login'],
  ['GET', '/auth/me'],
  ['PATCH', '/auth/me'],
  ['POST', '/auth/me/password'],
  ['POST', '/auth/me/email'],
  ['POST', '/auth/password/forgot'],
  ['POST', '/auth/password/reset'],
  ['POST', '/auth/email/verify'],
  ['POST', '/auth/email/verify/resend'],
  ['POST', '/auth/refresh'],
  ['POST', '/auth/logout'],
  ['POST', '/auth/logout-all'],
  ['GET', '/auth/sessions'],
  ['DELETE', '/auth/sessions/{id}'],
  ['POST', '/auth/api-keys'],
  ['GET', '/auth/api-keys'],
  ['DELETE', '/auth/api-keys/{id}'],
  ['GET', '/auth/credential'],
  ['GET', '/auth/admin/users/{id}/api-keys'],
  ['DELETE', '/auth/admin/users/{id}/api-keys/{key_id}'],
  ['GET', '/auth/admin/users'],
  ['GET', '/auth/admin/users/{id}'],
  ['GET', '/auth/admin/audit'],
  ['PATCH', '/auth/admin/users/{id}/role'],
  ['PATCH', '/auth/admin/users/{id}/status'],
  ['POST', '/projects'],
  ['GET', '/projects'],
  ['GET', '/projects/{id}'],
  ['PUT', '/projects/{id}'],
  ['PATCH', '/projects/{id}'],
  ['DELETE', '/projects/{id}'],
  ['POST', '/projects/{id}/restore'],
  ['GET', '/projects/{id}/activity'],
  ['GET', '/projects/{id}/members'],
  ['POST', '/projects/{id}/members'],
  ['PATCH', '/projects/{id}/members/{user_id}'],
  ['DELETE', '/projects/{id}/members/{user_id}'],
  ['POST', '/projects/{id}/transfer'],
  ['POST', '/projects/{id}/invitations'],
  ['GET', '/projects/{id}/invitations'],
  ['DELETE', '/projects/{id}/invitations/{invitation_id}'],
  ['GET', '/invitations'],
  ['POST', '/invitations/accept'],
  ['POST', '/invitations/{id}/accept'],
  ['GET', '/projects/{id}/states'],
  ['POST', '/projects/{id}/states'],
  ['PATCH', '/projects/{id}/states/{state_id}'],
  ['DELETE', '/projects/{id}/states/{state_id}'],
  ['GET', '/projects/{id}/transitions'],
  ['PUT', '/projects/{id}/transitions'],
  ['POST', '/projects/{id}/tasks'],
  ['GET', '/projects/{id}/tasks'],
  ['GET', '/tasks'],
  ['GET', '/tasks/{id}'],
  ['PATCH', '/tasks/{id}'],
  ['DELETE', '/tasks/{id}'],
  ['POST', '/tasks/{id}/restore'],
  ['POST', '/tasks/{id}/transition'],
  ['GET', '/tasks/{id}/history'],
] as const;

const withIds = (path: string, id: string) =>
  path
    .replace('{id}', id)
    .replace('{user_id}', id)
    .replace('{state_id}', id)
    .replace('{invitation_id}', id)
    .replace('{key_id}', id);

function expectNoServerError(res: Awaited<ReturnType<typeof call>>, what: string) {
  expect(res.status, `${what} -> ${res.status} ${res.text.slice(0, 200)}`).toBeLessThan(500);
  if (res.status >= 400) expect(res.headers.get('Content-Type'), what).toContain('application/problem+json');
}

it('probes every route of the contract', async () => {
  const doc = (await call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  );
  expect(documented.sort()).toEqual(ROUTES.map(([m, p]) => `${m} ${p}`).sort());
});

describe.each(ROUTES)('hostile input to %s %s never causes a 5xx', (method, path) => {
  it('bodies and content types', { timeout: 120_000 }, async () => {
    const admin = await createUser({ role: 'admin' });
    const project = await call('POST', '/projects', { token: admin.token, json: { name: 'fuzz target' } });
    const concrete = path
      .replace('{id}', path.startsWith('/projects') ? project.body.id : admin.id)
      .replace('{user_id}', admin.id)
      .replace('{state_id}', admin.id)
      .replace('{invitation_id}', admin.id)
      .replace('{key_id}', admin.id);
    // The same bodies with an admin's API key holding every scope, where a route takes one.
    const made = await call('POST', '/auth/api-keys', {
      token: admin.token,
      json: { name: 'fuzz', scopes: [...SCOPES], expires_at: new Date(Date.now() + 86_400_000).toISOString() },
    });
    for (const body of method === 'GET' ? [undefined] : BODIES) {
      const res = await call(method, concrete, {
        token: made.body.key,
        body,
        headers: { 'Content-Type': 'application/json', 'If-Match': '"1"' },
      });
      expectNoServerError(res, `${method} ${path} with a key ${String(body).slice(0, 40)}`);
    }
    for (const body of method === 'GET' ? [undefined] : BODIES) {
      for (const contentType of method === 'GET' ? ['application/json'] : CONTENT_TYPES) {
        const res = await call(method, concrete, {
          token: admin.token,
          body,
          headers: { 'Content-Type': contentType, 'If-Match': '"1"' },
        });
        expectNoServerError(res, `${method} ${path} [${contentType}] ${String(body).slice(0, 40)}`);
      }
    }
  });

  it('odd path ids, query strings and headers', { timeout: 120_000 }, async () => {
    const admin = await createUser({ role: 'admin' });
    const paths = PATH_IDS.flatMap((id) => [
      ...(path.includes('{id}') ? [withIds(path.replace('{id}', id), admin.id)] : []),
      ...(path.includes('{user_id}') ? [path.replace('{id}', admin.id).replace('{user_id}', id)] : []),
      ...(path.includes('{state_id}') ? [path.replace('{id}', admin.id).replace('{state_id}', id)] : []),
      ...(path.includes('{invitation_id}') ? [path.replace('{id}', admin.id).replace('{invitation_id}', id)] : []),
      ...(path.includes('{key_id}') ? [path.replace('{id}', admin.id).replace('{key_id}', id)] : []),
    ]);
    if (paths.length === 0) paths.push(path);
    for (const concrete of paths) {
      for (const query of QUERIES) {
        const res = await call(method, `${concrete}?${query}`, {
          token: admin.token,
          json: method === 'GET' ? undefined : {},
        });
        expectNoServerError(res, `${method} ${concrete.slice(0, 60)}?${query.slice(0, 30)}`);
      }
    }
    for (const authorization of AUTH_HEADERS) {
      const res = await call(method, withIds(path, admin.id), { headers: { Authorization: authorization } });
      expectNoServerError(res, `${method} ${path} with Authorization ${authorization.slice(0, 20)}`);
    }
    for (const tag of [
      '*',
      'W/"1"',
      '"' + '9'.repeat(20) + '"',
      'x'.repeat(2000),
      '"1", "2", ' + '"3", '.repeat(100),
      '',
      ',,,',
      'W/',
    ]) {
      for (const header of ['If-Match', 'If-None-Match']) {
        const res = await call(method, withIds(path, admin.id), { token: admin.token, headers: { [header]: tag } });
        expectNoServerError(res, `${method} ${path} with ${header} ${tag.slice(0, 20)}`);
      }
    }
    for (const origin of [
      'null',
      'garbage',
      'https://evil.example',
      `https://${'x'.repeat(3000)}.example`,
      'http://localhost:99999',
      '',
    ]) {
      const res = await call(method, withIds(path, admin.id), { token: admin.token, headers: { Origin: origin } });
      expectNoServerError(res, `${method} ${path} with Origin ${origin.slice(0, 20)}`);
      for (const requested of [method, 'TRACE', 'BOGUS', '']) {
        const preflight = await call('OPTIONS', withIds(path, admin.id), {
          headers: {
            Origin: origin,
            'Access-Control-Request-Method': requested,
            'Access-Control-Request-Headers': 'x-anything, authorization',
          },
        });
        expectNoServerError(preflight, `preflight ${requested} ${path} from ${origin.slice(0, 20)}`);
      }
    }
  });
});
