import { env } from 'cloudflare:workers';
import { sql as raw } from 'drizzle-orm';
import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createDatabase, requestClient } from '../../src/db/client.ts';
import type { Traffic } from '../../src/db/traffic.ts';
import { sql } from '../support/db.ts';

/**
 * Each request's postgres.js client is built on options parsed once per isolate (src/db/client.ts). That
 * leans on postgres.js taking an already-parsed options object as it is; these tests fail if it stops
 * doing so, or if what a connection changes as it runs leaks from one request's client to another's.
 * And each request lets go of its connection when it is over.
 */
const backendAlive = async (pid: number) => (await sql()`select count(*)::int as n from pg_stat_activity where pid = ${pid}`)[0]!.n === 1;
const pidOf = async (client: postgres.Sql) => (await client.unsafe('select pg_backend_pid() as pid'))[0]!.pid as number;

describe('request clients', () => {
  /** What postgres.js keeps per client beside the typed options. */
  const internals = (client: postgres.Sql) => client.options as unknown as { parameters: Record<string, string>; shared: object };
  const open = (onSent: (sent: Traffic) => void = () => {}) => requestClient(env.HYPERDRIVE.connectionString, 5, onSent);

  it('share the parsed type maps and build no subscription client', () => {
    const [first, second] = [open().sql, open().sql];
    expect(first.options.parsers).toBe(second.options.parsers);
    expect(first.options.serializers).toBe(second.options.serializers);
    // postgres.js stores its subscription client here, or `true` when told to build none.
    expect(first.subscribe as unknown).toBe(true);
    expect(internals(first).parameters).not.toBe(internals(second).parameters);
    expect(internals(first).shared).not.toBe(internals(second).shared);
  });

  it('keep the connection settings and the decoders drizzle installed', () => {
    const client = open().sql;
    expect(client.options.max).toBe(1);
    expect(client.options.prepare).toBe(false);
    expect(client.options.fetch_types).toBe(false);
    expect(client.options.connect_timeout).toBe(5);
    // drizzle's postgres-js driver leaves timestamps (1184) as text for its own column mappers.
    expect(client.options.parsers[1184]!('2026-01-02 03:04:05+00')).toBe('2026-01-02 03:04:05+00');
  });

  it('each count their own traffic on their own connection', async () => {
    const counted: Traffic[] = [{ statements: 0, roundTrips: 0 }, { statements: 0, roundTrips: 0 }];
    const clients = counted.map(
      (traffic) =>
        open((sent) => {
          traffic.statements += sent.statements;
          traffic.roundTrips += sent.roundTrips;
        }).sql,
    );
    const pids = await Promise.all(clients.map(pidOf));
    await clients[0]!.unsafe('select 1');
    expect(pids[0]).not.toBe(pids[1]);
    expect(counted).toEqual([{ statements: 2, roundTrips: 2 }, { statements: 1, roundTrips: 1 }]);
    expect(internals(clients[0]!).parameters).toMatchObject({ server_encoding: 'UTF8' });
  });

  it('close their socket when closed, and refuse to open another', async () => {
    const client = open();
    const pid = await pidOf(client.sql);
    client.close();
    await expect.poll(() => backendAlive(pid), { timeout: 3000 }).toBe(false);
    await expect(client.sql.unsafe('select 1')).rejects.toThrow(/closed with its request/);
  });
});

describe('a request database handle', () => {
  it('closes its connection when the request is done, even when the work failed', async () => {
    for (const fails of [false, true]) {
      const handle = createDatabase(env.HYPERDRIVE.connectionString, 5);
      let pid = 0;
      const done = handle.run(async () => {
        pid = (await handle.db.execute<{ pid: number }>(raw`select pg_backend_pid() as pid`))[0]!.pid;
        if (fails) throw new Error('the handler failed');
      });
      await (fails ? expect(done).rejects.toThrow('the handler failed') : done);
      await expect.poll(() => backendAlive(pid), { timeout: 3000 }).toBe(false);
    }
  });

  it('fails work left running after the request instead of opening a new connection', async () => {
    const handle = createDatabase(env.HYPERDRIVE.connectionString, 5);
    let late: Promise<unknown> | undefined;
    await handle.run(async () => {
      await handle.db.execute(raw`select 1`);
      late = new Promise((resolve) => setTimeout(resolve, 20)).then(() => handle.db.execute(raw`select 1`));
    });
    await expect(late).rejects.toMatchObject({ cause: { message: expect.stringMatching(/after its request finished/) } });
    expect(handle.traffic()).toEqual({ statements: 1, roundTrips: 1 });
  });
});
