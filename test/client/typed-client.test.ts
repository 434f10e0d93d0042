import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createAegisFlowClient } from '../../client/index.ts';
import { BASE_URL } from '../support/http.ts';
import { mailedToken } from '../support/mail.ts';
import { uniqueEmail } from '../support/users.ts';

/** The typed client (client/), generated from the committed openapi.json, against the real worker. */
const clientFor = (token?: string) =>
  createAegisFlowClient({ baseUrl: BASE_URL, token, fetch: (request: Request) => exports.default.fetch(request) });

describe('the typed client', () => {
  it('drives signup, login, me and a project create and list', async () => {
    const anonymous = clientFor();
    const email = uniqueEmail('typed');
    const signup = await anonymous.POST('/auth/signup', {
      body: { email, password: 'correct horse battery', full_name: 'Typed Client' },
    });
    expect(signup.response.status).toBe(201);
    expect(signup.data?.email).toBe(email);

    const login = await anonymous.POST('/auth/login', { body: { email, password: 'correct horse battery' } });
    expect(login.response.status).toBe(200);
    const token = login.data!.access_token;
    expect(login.data!.token_type).toBe('bearer');

    const client = clientFor(token);
    const me = await client.GET('/auth/me');
    expect(me.data).toMatchObject({ email, full_name: 'Typed Client', role: 'user', is_active: true });

    const created = await client.POST('/projects', { body: { name: 'Typed launch', description: 'from the client' } });
    expect(created.response.status).toBe(201);
    expect(created.data!.owner_id).toBe(me.data!.id);
    expect(created.response.headers.get('ETag')).toBe('"1"');

    const list = await client.GET('/projects', { params: { query: { limit: 10, sort: '-created_at' } } });
    expect(list.data!.map((project) => project.id)).toEqual([created.data!.id]);
    expect(list.response.headers.get('X-Total-Count')).toBe('1');

    const one = await client.GET('/projects/{id}', { params: { path: { id: created.data!.id } } });
    expect(one.data!.name).toBe('Typed launch');
  });

  it('makes an API key and drives the API with it', async () => {
    const anonymous = clientFor();
    const email = uniqueEmail('typed-key');
    await anonymous.POST('/auth/signup', { body: { email, password: 'correct horse battery' } });
    const login = await anonymous.POST('/auth/login', { body: { email, password: 'correct horse battery' } });
    const session = clientFor(login.data!.access_token);
    const expires = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const made = await session.POST('/auth/api-keys', {
      body: { name: 'typed', scopes: ['projects:read', 'projects:write'], expires_at: expires },
    });
    expect(made.response.status).toBe(201);

    const machine = clientFor(made.data!.key);
    const credential = await machine.GET('/auth/credential');
    expect(credential.data).toMatchObject({
      kind: 'api_key',
      api_key_id: made.data!.id,
      scopes: ['projects:read', 'projects:write'],
    });
    const created = await machine.POST('/projects', { body: { name: 'By a machine' } });
    expect(created.response.status).toBe(201);
    const refused = await machine.GET('/auth/api-keys');
    expect(refused.response.status).toBe(403);
    expect(refused.error!.code).toBe('credential_not_allowed');
    const keys = await session.GET('/auth/api-keys');
    expect(keys.data!.map((key) => key.last_used_at === undefined)).toEqual([false]);
  });

  it('drives a password reset and an invitation', async () => {
    const anonymous = clientFor();
    const email = uniqueEmail('typed-reset');
    await anonymous.POST('/auth/signup', { body: { email, password: 'correct horse battery' } });
    const forgot = await anonymous.POST('/auth/password/forgot', { body: { email } });
    expect(forgot.response.status).toBe(202);
    expect(forgot.data!.detail).toMatch(/reset link/);
    const token = await mailedToken(email, 'password_reset');
    const body = { token, new_password: 'typed reset phrase' };
    expect((await anonymous.POST('/auth/password/reset', { body })).response.status).toBe(204);
    const again = await anonymous.POST('/auth/password/reset', { body });
    expect(again.error).toMatchObject({ status: 400, code: 'reset_token_invalid' });

    const login = await anonymous.POST('/auth/login', { body: { email, password: 'typed reset phrase' } });
    const owner = clientFor(login.data!.access_token);
    const project = await owner.POST('/projects', { body: { name: 'Typed team' } });
    const invitee = uniqueEmail('typed-invitee');
    const invited = await owner.POST('/projects/{id}/invitations', {
      params: { path: { id: project.data!.id } },
      body: { email: invitee, role: 'viewer' },
    });
    expect(invited.response.status).toBe(202);
    expect(invited.data).toMatchObject({ email: invitee, role: 'viewer', project_id: project.data!.id });
    const pending = await owner.GET('/projects/{id}/invitations', { params: { path: { id: project.data!.id } } });
    expect(pending.data!.map((invitation) => invitation.id)).toEqual([invited.data!.id]);
  });

  it('returns problems as typed errors', async () => {
    const res = await clientFor('not.a.token').GET('/auth/me');
    expect(res.data).toBeUndefined();
    expect(res.error).toMatchObject({ status: 401, title: 'Unauthorized' });
    expect(typeof res.error?.request_id).toBe('string');
  });

  it('is checked by the compiler against the contract (npm run typecheck)', () => {
    const client = clientFor();
    // These lines exist for tsc: each would fail typechecking without its @ts-expect-error.
    const typeErrors = () => [
      // @ts-expect-error -- no such path in openapi.json
      client.GET('/no/such/path'),
      // @ts-expect-error -- a project needs a name
      client.POST('/projects', { body: { description: 'nameless' } }),
      // @ts-expect-error -- limit is a number
      client.GET('/projects', { params: { query: { limit: 'ten' } } }),
    ];
    expect(typeof typeErrors).toBe('function');
  });
});
