import { env } from 'cloudflare:workers';
import { sql as raw } from 'drizzle-orm';
import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createDatabase, requestClient } from '../../src/db/client.ts';
import type { Traffic } from '../../src/db/traffic.ts';

/**
 * Each request's postgres.js client is built on options parsed once per isolate (src/db/client.ts). That
 * leans on postgres.js taking an already-parsed options object as it is; these tests fail if it stops
 * doing so, or if what a connection changes as it runs leaks from one request's client to another's.
 * And each request lets go of its client when it is over.
 */
const pidOf = async (client: postgres.Sql) => (await client.unsafe('select pg_backend_pid() as pid'))[0]!.pid as number;

describe('request clients', () => {
  /** What postgres.js keeps per client beside the typed options. */
  const internals = (client: postgres.Sql) =>
    client.options as unknown as { parameters: Record<string, string>; shared: object };
  const open = (onSent: (sent: Traffic) => void = () => {}) =>
    requestClient(env.HYPERDRIVE.connectionString, 5, onSent);

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
    const counted: Traffic[] = [
      { statements: 0, roundTrips: 0 },
      { statements: 0, roundTrips: 0 },
    ];
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
    expect(counted).toEqual([
      { statements: 2, roundTrips: 2 },
      { statements: 1, roundTrips: 1 },
    ]);
    expect(internals(clients[0]!).parameters).toMatchObject({ server_encoding: 'UTF8' });
  });

  it('stop hearing from their socket once released, and refuse to open another', async () => {
    const client = open();
    await pidOf(client.sql);
    client.release();
    // The socket stays open for the runtime to close, but nothing of the client listens to it any more.
    const unanswered = new Promise((resolve) => setTimeout(() => resolve('unanswered'), 300));
    await expect(Promise.race([client.sql.unsafe('select 1'), unanswered])).resolves.toBe('unanswered');
    const unused = open();
    unused.release();
    await expect(unused.sql.unsafe('select 1')).rejects.toThrow(/released with its request/);
  });
});

describe('a request database handle', () => {
  it('lets go of its client when the request is done, even when the work failed: later use fails and opens nothing', async () => {
    for (const fails of [false, true]) {
      const handle = createDatabase(env.HYPERDRIVE.connectionString, 5);
      let late: Promise<unknown> | undefined;
      const done = handle.run(async () => {
        await handle.db.execute(raw`select 1`);
        late = new Promise((resolve) => setTimeout(resolve, 20)).then(() => handle.db.execute(raw`select 1`));
        if (fails) throw new Error('the handler failed');
      });
      await (fails ? expect(done).rejects.toThrow('the handler failed') : done);
      await expect(late).rejects.toMatchObject({
        cause: { message: expect.stringMatching(/after its request finished/) },
      });
      expect(handle.traffic()).toEqual({ statements: 1, roundTrips: 1 });
    }
  });

  it('abandons a statement still running when the request ends: its answer reaches nobody', async () => {
    const handle = createDatabase(env.HYPERDRIVE.connectionString, 5);
    let running: Promise<unknown> | undefined;
    await handle.run(async () => {
      await handle.db.execute(raw`select 1`);
      // drizzle runs a query when it is awaited or then'd: start it here, without waiting for it.
      running = handle.db.execute(raw`select pg_sleep(0.1)`).then((rows) => rows);
    });
    const unanswered = new Promise((resolve) => setTimeout(() => resolve('unanswered'), 500));
    await expect(Promise.race([running, unanswered])).resolves.toBe('unanswered');
  });
});
