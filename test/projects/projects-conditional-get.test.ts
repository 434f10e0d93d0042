import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem } from '../support/http.ts';
import { createUser, type TestUser } from '../support/users.ts';

async function ownedProject() {
  const owner = await createUser();
  const created = await call('POST', '/projects', { token: owner.token, json: { name: 'Conditional' } });
  return { owner, id: created.body.id as string, etag: created.headers.get('ETag')! };
}

const getIfNoneMatch = (user: TestUser, id: string, ifNoneMatch: string) =>
  call('GET', `/projects/${id}`, { token: user.token, headers: { 'If-None-Match': ifNoneMatch } });

describe('GET /projects/{id} with If-None-Match (RFC 9110 13.1.2)', () => {
  it('answers 304 with the ETag and no body when the tag is current, still in one statement', async () => {
    const { owner, id, etag } = await ownedProject();
    const res = await getIfNoneMatch(owner, id, etag);
    expect(res.status).toBe(304);
    expect(res.text).toBe('');
    expect(res.headers.get('ETag')).toBe(etag);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
  });

  it('compares weakly, accepts * and lists, and ignores entries that are not tags', async () => {
    const { owner, id } = await ownedProject();
    for (const header of ['W/"1"', '*', ' * ', '"7", "1"', 'garbage, "1"', '"1",W/"2"']) {
      expect((await getIfNoneMatch(owner, id, header)).status, header).toBe(304);
    }
    for (const header of [
      '"2"',
      '1',
      "'1'",
      '"1',
      'W/1',
      '"1"x',
      'garbage',
      '',
      ',',
      '"-1"',
      '"99999999999"',
      'W/"',
      '**',
    ]) {
      const res = await getIfNoneMatch(owner, id, header);
      expect(res.status, header).toBe(200);
      expect(res.body.id).toBe(id);
    }
  });

  it('answers 200 with the new version once the project has changed', async () => {
    const { owner, id, etag } = await ownedProject();
    await call('PATCH', `/projects/${id}`, { token: owner.token, json: { name: 'Changed' } });
    const res = await getIfNoneMatch(owner, id, etag);
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe('"2"');
    expect(res.body.name).toBe('Changed');
  });

  it('still checks the caller: a deactivated owner gets 403, a non-member 404, a deleted project 404, never 304', async () => {
    const { owner, id, etag } = await ownedProject();
    const stranger = await createUser();
    expectProblem(await getIfNoneMatch(stranger, id, etag), 404);
    expectProblem(await getIfNoneMatch(stranger, id, '*'), 404);

    await sql()`update users set is_active = false where id = ${owner.id}`;
    expectProblem(await getIfNoneMatch(owner, id, etag), 403);
    await sql()`update users set is_active = true where id = ${owner.id}`;

    await call('DELETE', `/projects/${id}`, { token: owner.token });
    expectProblem(await getIfNoneMatch(owner, id, '*'), 404);
    expectProblem(await getIfNoneMatch(owner, crypto.randomUUID(), '*'), 404);
  });
});
