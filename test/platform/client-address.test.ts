import { describe, expect, it } from 'vitest';
import { networkOf } from '../../src/lib/client-address.ts';
import { sql } from '../support/db.ts';
import { call, callWithConfig, expectProblem, runningAs } from '../support/http.ts';
import { createUser, PASSWORD } from '../support/users.ts';

describe('the client address', () => {
  it('is CF-Connecting-IP only when the request came through the edge; otherwise the marker "unverified"', async () => {
    const user = await createUser();
    const spoofed = await call('POST', '/auth/login', {
      json: { email: user.email, password: PASSWORD },
      headers: { 'CF-Connecting-IP': '192.0.2.77' },
      viaEdge: false,
    });
    expect(spoofed.status).toBe(200);
    const viaEdge = await call('POST', '/auth/login', {
      json: { email: user.email, password: PASSWORD },
      headers: { 'CF-Connecting-IP': '192.0.2.78' },
    });
    expect(viaEdge.status).toBe(200);
    const [spoofedSession, edgeSession] = [sessionOf(spoofed.body.access_token), sessionOf(viaEdge.body.access_token)];
    const stored = await sql()`select ip from sessions where id in (${spoofedSession}, ${edgeSession})`;
    expect(new Set(stored.map((row) => row.ip))).toEqual(new Set(['unverified', '192.0.2.78']));
  });

  it("under wrangler dev (APP_ENV=development), whose stand-in request.cf keeps a client's header, never", async () => {
    const user = await createUser();
    const login = await callWithConfig(
      runningAs('development'),
      'POST',
      '/auth/login',
      { 'CF-Connecting-IP': '192.0.2.79' },
      { json: { email: user.email, password: PASSWORD }, viaEdge: true },
    );
    expect(login.status).toBe(200);
    const [row] = await sql()`select ip from sessions where id = ${sessionOf(login.body.access_token)}`;
    expect(row!.ip).toBe('unverified');
  });

  it('a header that is not an address is not one', async () => {
    const user = await createUser();
    const res = await call('POST', '/auth/login', {
      json: { email: user.email, password: PASSWORD },
      headers: { 'CF-Connecting-IP': "1.2.3.4'; drop table users" },
    });
    expect(res.status).toBe(200);
    const [row] = await sql()`select ip from sessions where id = ${sessionOf(res.body.access_token)}`;
    expect(row!.ip).toBe('unverified');
  });

  it('in production, the routes limited per address refuse a request that did not come through the edge', async () => {
    for (const path of ['/auth/login', '/auth/signup', '/auth/refresh', '/auth/logout']) {
      const refused = await callWithConfig(
        runningAs('production'),
        'POST',
        path,
        { 'CF-Connecting-IP': '192.0.2.1' },
        { json: {} },
      );
      expectProblem(refused, 403, 'edge_required');
    }
    // Through the edge the same request gets as far as validation.
    const validated = await callWithConfig(
      runningAs('production'),
      'POST',
      '/auth/login',
      {},
      { json: {}, viaEdge: true },
    );
    expectProblem(validated, 422);
  });

  it('is counted by network: an IPv4 /24, an IPv6 /64, an IPv4-mapped IPv6 address as its IPv4 /24', () => {
    expect(networkOf('203.0.113.9')).toBe('203.0.113.0/24');
    expect(networkOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(networkOf('2001:DB8::1'.toLowerCase())).toBe('2001:db8:0:0::/64');
    expect(networkOf('::ffff:198.51.100.4')).toBe('198.51.100.0/24');
    expect(networkOf('unverified')).toBe('unverified');
  });
});

/** The session id (`sid`) an access token carries. */
function sessionOf(accessToken: string): string {
  const payload = JSON.parse(atob(accessToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
  return payload.sid;
}
