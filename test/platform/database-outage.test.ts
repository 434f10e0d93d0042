import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import worker from '../../src/index.ts';
import { BASE_URL, expectProblem, parse } from '../support/http.ts';
import { sql } from '../support/db.ts';
import { createUser } from '../support/users.ts';

/** The real worker, with its Hyperdrive binding swapped for one that points somewhere else. */
async function callWith(
  hyperdrive: Hyperdrive,
  method: string,
  path: string,
  init: RequestInit = {},
  vars: Record<string, string> = {},
) {
  const ctx = createExecutionContext();
  const started = Date.now();
  const response = await worker.fetch(
    new Request(`${BASE_URL}${path}`, { method, ...init }),
    { ...env, ...vars, HYPERDRIVE: hyperdrive },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { ...(await parse<any>(response)), elapsed: Date.now() - started };
}

async function setProxy(mode: 'up' | 'down' | 'hang') {
  const res = await fetch(`${env.PROXY_CONTROL_URL}/${mode}`, { method: 'POST' });
  expect(res.status).toBe(204);
}

// Outages are logged as errors by design (the request's line, at error); keep them out of the test output, but check they are logged.
let logged: MockInstance<typeof console.log>;
beforeEach(() => {
  logged = vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(async () => {
  logged.mockRestore();
  await setProxy('up');
});

describe('database unavailable', () => {
  it('nothing listening -> 503 with Retry-After, within seconds, on every route that needs the database', async () => {
    const { token } = await createUser();
    const requests: [string, string, RequestInit?][] = [
      ['GET', '/health/ready'],
      ['GET', '/auth/me', { headers: { Authorization: `Bearer ${token}` } }],
      [
        'POST',
        '/auth/login',
        { headers: { 'Content-Type': 'application/json' }, body: '{"email":"a@example.com","password":"x"}' },
      ],
      ['GET', '/projects', { headers: { Authorization: `Bearer ${token}` } }],
    ];
    for (const [method, path, init] of requests) {
      const res = await callWith(env.HYPERDRIVE_NOWHERE, method, path, init);
      const problem = expectProblem(res, 503);
      expect(res.headers.get('Retry-After')).toBe('5');
      expect(problem.detail).not.toMatch(/ECONN|127\.0\.0\.1|postgres/i);
      expect(res.elapsed).toBeLessThan(5_000);
    }
    const lines = logged.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(
      lines.some(
        (line) => line.level === 'error' && line.status === 503 && line.error?.cause?.code === 'DATABASE_UNREACHABLE',
      ),
    ).toBe(true);
    // Log lines name the cause, never the statement's parameters.
    expect(JSON.stringify(lines)).not.toContain('params:');
  });

  it('liveness does not depend on the database', async () => {
    const res = await callWith(env.HYPERDRIVE_NOWHERE, 'GET', '/health');
    expect(res.status).toBe(200);
  });

  it('a server that accepts but never answers -> 503 after the bounded connect timeout, not a hang', async () => {
    await setProxy('hang');
    const res = await callWith(env.HYPERDRIVE_VIA_PROXY, 'GET', '/health/ready');
    expectProblem(res, 503);
    expect(res.elapsed).toBeLessThan(6_000);
  });

  it('recovers by itself once the database is back', async () => {
    expect((await callWith(env.HYPERDRIVE_VIA_PROXY, 'GET', '/health/ready')).status).toBe(200);
    await setProxy('down');
    expectProblem(await callWith(env.HYPERDRIVE_VIA_PROXY, 'GET', '/health/ready'), 503);
    const { token } = await createUser();
    expectProblem(
      await callWith(env.HYPERDRIVE_VIA_PROXY, 'GET', '/auth/me', { headers: { Authorization: `Bearer ${token}` } }),
      503,
    );
    await setProxy('up');
    expect((await callWith(env.HYPERDRIVE_VIA_PROXY, 'GET', '/health/ready')).status).toBe(200);
    expect(
      (await callWith(env.HYPERDRIVE_VIA_PROXY, 'GET', '/auth/me', { headers: { Authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
  });

  it('a statement stalled behind a lock is cancelled by the database: 503, and nothing changes', async () => {
    const { token } = await createUser();
    const created = await callWith(env.HYPERDRIVE, 'POST', '/projects', {
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'locked' }),
    });
    const id = created.body.id as string;
    await sql().begin(async (tx) => {
      await tx`select id from projects where id = ${id} for update`;
      const res = await callWith(env.HYPERDRIVE, 'PATCH', `/projects/${id}`, {
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'late' }),
      });
      expectProblem(res, 503);
      expect(res.headers.get('Retry-After')).toBe('5');
      expect(res.elapsed).toBeLessThan(5_000); // lock_timeout is 3 s
      expect(logged.mock.calls.map(([line]) => JSON.parse(String(line)).error?.cause?.code)).toContain('55P03');
    });
    const [row] = await sql()`select name, version from projects where id = ${id}`;
    expect(row).toEqual({ name: 'locked', version: 1 });
  });

  it('a request that outlives REQUEST_TIMEOUT_SECONDS answers 503 instead of holding the client', async () => {
    await setProxy('hang');
    const started = Date.now();
    const res = await callWith(
      env.HYPERDRIVE_VIA_PROXY,
      'GET',
      '/health/ready',
      {},
      { REQUEST_TIMEOUT_SECONDS: '1', DATABASE_CONNECT_TIMEOUT_SECONDS: '30' },
    );
    expectProblem(res, 503);
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});
