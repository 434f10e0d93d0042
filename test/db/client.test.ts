import { env } from 'cloudflare:workers';
import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { requestClient } from '../../src/db/client.ts';
import type { Traffic } from '../../src/db/traffic.ts';

/**
 * Each request's postgres.js client is built on options parsed once per isolate (src/db/client.ts). That
 * leans on postgres.js taking an already-parsed options object as it is; these tests fail if it stops
 * doing so, or if what a connection changes as it runs leaks from one request's client to another's.
 */
describe('request clients', () => {
  /** What postgres.js keeps per client beside the typed options. */
  const internals = (client: postgres.Sql) => client.options as unknown as { parameters: Record<string, string>; shared: object };
  const open = (onSent: (sent: Traffic) => void = () => {}) => requestClient(env.HYPERDRIVE.connectionString, 5, onSent);

  it('share the parsed type maps and build no subscription client', () => {
    const [first, second] = [open(), open()];
    expect(first.options.parsers).toBe(second.options.parsers);
    expect(first.options.serializers).toBe(second.options.serializers);
    // postgres.js stores its subscription client here, or `true` when told to build none.
    expect(first.subscribe as unknown).toBe(true);
    expect(internals(first).parameters).not.toBe(internals(second).parameters);
    expect(internals(first).shared).not.toBe(internals(second).shared);
  });

  it('keep the connection settings and the decoders drizzle installed', () => {
    const client = open();
    expect(client.options.max).toBe(1);
    expect(client.options.prepare).toBe(false);
    expect(client.options.fetch_types).toBe(false);
    expect(client.options.connect_timeout).toBe(5);
    // drizzle's postgres-js driver leaves timestamps (1184) as text for its own column mappers.
    expect(client.options.parsers[1184]!('2026-01-02 03:04:05+00')).toBe('2026-01-02 03:04:05+00');
  });

  it('each count their own traffic on their own connection', async () => {
    const counted: Traffic[] = [{ statements: 0, roundTrips: 0 }, { statements: 0, roundTrips: 0 }];
    const clients = counted.map((traffic) =>
      open((sent) => {
        traffic.statements += sent.statements;
        traffic.roundTrips += sent.roundTrips;
      }),
    );
    const pids = await Promise.all(clients.map(async (client) => (await client.unsafe('select pg_backend_pid() as pid'))[0]!.pid as number));
    await clients[0]!.unsafe('select 1');
    expect(pids[0]).not.toBe(pids[1]);
    expect(counted).toEqual([{ statements: 2, roundTrips: 2 }, { statements: 1, roundTrips: 1 }]);
    expect(internals(clients[0]!).parameters).toMatchObject({ server_encoding: 'UTF8' });
  });
});
