import { describe, expect, it } from 'vitest';
import document from '../../openapi.json';
import { assertKeepsContract, type Exchange } from '../support/contract.ts';
import { call, expectProblem } from '../support/http.ts';
import { createUser } from '../support/users.ts';

/** An exchange as the suite's helper records it, for GET /auth/me unless changed. */
function exchange(changes: Partial<Exchange> & { body?: unknown; headers?: Record<string, string> }): Exchange {
  const { body, headers, ...rest } = changes;
  return {
    method: 'GET',
    url: 'http://aegisflow.test/auth/me',
    requestHeaders: new Headers(),
    requestBody: undefined,
    status: 200,
    responseHeaders: new Headers({
      'Content-Type': 'application/json',
      'X-Request-Id': crypto.randomUUID(),
      ...headers,
    }),
    responseText: JSON.stringify(
      body ?? {
        id: crypto.randomUUID(),
        email: 'a@example.com',
        full_name: null,
        role: 'user',
        is_active: true,
        email_verified_at: null,
        created_at: '2026-01-01T00:00:00.000Z',
        updated_at: '2026-01-01T00:00:00.000Z',
      },
    ),
    ...rest,
  };
}

describe('the contract check every test request goes through (support/contract.ts)', () => {
  it('passes an exchange that keeps the contract', () => {
    expect(() => assertKeepsContract(exchange({}))).not.toThrow();
  });

  it('fails on a body off its schema, an undeclared status, content type or header, and an invalid request that succeeded', () => {
    expect(() => assertKeepsContract(exchange({ body: { id: 'not-a-uuid' } }))).toThrow(/does not match its schema/);
    expect(() => assertKeepsContract(exchange({ status: 409 }))).toThrow(/not declared/);
    expect(() => assertKeepsContract(exchange({ headers: { 'Content-Type': 'text/plain' } }))).toThrow(/content type/);
    expect(() => assertKeepsContract(exchange({ headers: { Link: '</x>; rel="next"' } }))).toThrow(/header link/);
    expect(() => assertKeepsContract(exchange({ url: 'http://aegisflow.test/projects?limit=500', body: [] }))).toThrow(
      /calls the request invalid/,
    );
    expect(() => assertKeepsContract(exchange({ url: 'http://aegisflow.test/not-a-route' }))).toThrow(/no operation/);
  });
});

describe('what the contract now says, and the server does', () => {
  it('list bounds and defaults are in the document, and the server takes decimal digits only', async () => {
    const limit = document.paths['/projects'].get.parameters.find(
      (parameter: { name: string }) => parameter.name === 'limit',
    )!;
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
    const user = await createUser();
    for (const query of ['limit=0x10', 'limit=1e1', 'limit=%2010', 'offset=0x1'])
      expectProblem(await call('GET', `/projects?${query}`, { token: user.token }), 422);
  });

  it('declares format email, non-empty updates, a required login body and names that are more than spaces', () => {
    const schemas = document.components.schemas as Record<string, any>;
    expect(schemas.SignupRequest.properties.email.format).toBe('email');
    for (const name of ['UpdateProjectRequest', 'UpdateStateRequest', 'UpdateTaskRequest'])
      expect(schemas[name].anyOf.length).toBeGreaterThan(1);
    expect(schemas.UpdateTaskRequest.additionalProperties).toBeUndefined();
    expect(schemas.UpdateTaskRequest.properties.state_id.not).toEqual({});
    expect(document.paths['/auth/login'].post.requestBody.required).toBe(true);
    expect(schemas.CreateProjectRequest.properties.name.pattern).toBe('\\S');
  });

  it('answers 415 to any media type but JSON (and the login form), before anything changes', async () => {
    const user = await createUser();
    for (const type of [
      'application/merge-patch+json',
      'application/vnd.api+json',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await call('POST', '/projects', {
        token: user.token,
        body: JSON.stringify({ name: 'Sneaky' }),
        headers: { 'Content-Type': type },
      });
      expectProblem(res, 415);
    }
    expect((await call('GET', '/projects', { token: user.token })).body).toEqual([]);
  });

  it('escapes the WWW-Authenticate error description as an RFC 9110 quoted-string', async () => {
    const res = await call('GET', '/auth/me', { headers: { Authorization: 'Bearer not a token' } });
    const header = res.headers.get('WWW-Authenticate')!;
    expect(header).toMatch(/^Bearer realm="aegisflow", error="invalid_token", error_description="(?:[^"\\]|\\.)*"$/);
    expect(header).toContain('\\"Bearer <token>\\"');
  });
});
