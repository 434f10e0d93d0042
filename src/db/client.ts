import { AsyncLocalStorage } from 'node:async_hooks';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { inlineParameters } from './inline.ts';
import { clientOptionsOn, type ParsedOptions } from './internals.ts';
import { openDatabaseSocket, type WorkerSocket } from './socket.ts';
import type { Traffic } from './traffic.ts';

export type Database = PostgresJsDatabase;
type Sql = postgres.Sql;

export interface DatabaseHandle {
  db: Database;
  /** Runs `work` (the rest of the request) with this request's connection behind `db`. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Statements and round trips so far on this request, counted on the wire (db/traffic.ts). */
  traffic: () => Traffic;
}

/** What drizzle calls on a postgres.js client or transaction. */
interface DriverClient {
  unsafe(query: string, params?: unknown[]): postgres.PendingQuery<postgres.Row[]>;
  begin(work: (tx: DriverClient) => unknown): Promise<unknown>;
  savepoint(work: (tx: DriverClient) => unknown): Promise<unknown>;
}

/**
 * The part of a postgres.js client drizzle uses, with every statement's parameters written into its text
 * (db/inline.ts), sent on the client `target` returns. Transactions get the same on their connection.
 */
function inlining(target: () => DriverClient): DriverClient {
  return {
    unsafe: (query, params) => target().unsafe(inlineParameters(query, params)),
    begin: (work) => target().begin((tx) => work(inlining(() => tx))),
    savepoint: (work) => target().savepoint((tx) => work(inlining(() => tx))),
  };
}

const requestConnection = new AsyncLocalStorage<() => Sql>();
/** drizzle's postgres.js driver sets its type parsers here once; each request's client copies them. */
const driverOptions = { parsers: {}, serializers: {} } as Sql['options'];

/**
 * One drizzle instance for the isolate, whose statements go to the connection of the request they run in.
 * Being one, it lets hot statements be built once and only filled in afterwards (db/statements.ts).
 */
const database: Database = drizzle({
  options: driverOptions,
  ...inlining(() => {
    const connection = requestConnection.getStore();
    if (!connection) throw new Error('the database was used outside a request (DatabaseHandle.run)');
    return connection() as unknown as DriverClient;
  }),
} as unknown as Sql);

let parsed: { key: string; options: ParsedOptions } | undefined;

/**
 * The client options every request's connection shares, parsed once per isolate. Parsed per request they
 * were more than half of what a request allocated: postgres.js copies its type maps into every client it
 * builds, and beside every client builds a second, logical-replication one for `sql.subscribe` (never used
 * here).
 * `postgres(options)` takes an object that carries `shared` as parsed already (postgres.js's own
 * subscription client is built that way), which skips both; `no_subscribe` is honoured only there.
 * test/db/client.test.ts checks that postgres.js still does this.
 */
function parsedOptions(connectionString: string, connectTimeoutSeconds: number): ParsedOptions {
  const key = `${connectTimeoutSeconds} ${connectionString}`;
  if (parsed?.key === key) return parsed.options;
  const options = postgres(connectionString, {
    max: 1,
    fetch_types: false,
    // Unnamed statements: a connection lives for one request, so a named one would never be reused,
    // and PostgreSQL would keep a copy of each until the pool resets the session.
    prepare: false,
    connect_timeout: connectTimeoutSeconds,
    idle_timeout: 0,
    // A connection here lives for one request; postgres.js would otherwise arm a 30-60 minute
    // lifetime timer for each one.
    max_lifetime: 0,
    onnotice: () => {},
  }).options as ParsedOptions;
  Object.assign(options.parsers, driverOptions.parsers);
  Object.assign(options.serializers, driverOptions.serializers);
  parsed = { key, options };
  return options;
}

/** A request's postgres.js client and the way to let go of it when the request is over. */
export interface RequestClient {
  sql: Sql;
  /**
   * Detaches the client from its socket, which the runtime closes when the invocation ends. workerd's
   * own objects (the socket, its pending read) keep what they reach alive until a full garbage collection:
   * without this every request's client outlived it, was promoted to the old generation and made
   * collections longer (bench/README.md). Closing the socket here instead cost latency: the request
   * would pay for it before its response left. A client cannot open another connection afterwards.
   */
  release(): void;
}

/**
 * A postgres.js client for one request on the shared parsed options; only what a connection changes as
 * it runs (the server's parameters, the retry count) and the socket, which counts this request's
 * traffic, are its own.
 */
export function requestClient(
  connectionString: string,
  connectTimeoutSeconds: number,
  onSent: (sent: Traffic) => void,
): RequestClient {
  const sockets: WorkerSocket[] = [];
  let released = false;
  const sql = postgres(
    // The socket is workerd's.
    clientOptionsOn(parsedOptions(connectionString, connectTimeoutSeconds), async ({ host, port }) => {
      const socket = released ? undefined : await openDatabaseSocket(host[0]!, port[0]!, connectTimeoutSeconds, onSent);
      if (!socket || released) {
        socket?.destroy();
        throw new Error('the client was released with its request');
      }
      sockets.push(socket);
      return socket;
    }),
  );
  return {
    sql,
    release() {
      released = true;
      for (const socket of sockets.splice(0)) socket.detach();
    },
  };
}

/**
 * One connection per request: workerd forbids sharing I/O objects between requests, and Hyperdrive pools
 * the real connections. The client is released when the request's work is done and never ended by hand:
 * the runtime closes its socket when the invocation finishes (`sql.end()` on workerd leaves an unhandled
 * rejection, porsager/postgres#1202).
 */
export function createDatabase(connectionString: string, connectTimeoutSeconds: number): DatabaseHandle {
  const traffic: Traffic = { statements: 0, roundTrips: 0 };
  let client: RequestClient | undefined;
  let finished = false;
  // Opened on first use: routes that never query (health, docs) skip the client set-up entirely.
  const open = () => {
    if (finished) throw new Error('the database was used after its request finished');
    client ??= requestClient(connectionString, connectTimeoutSeconds, (sent) => {
      traffic.statements += sent.statements;
      traffic.roundTrips += sent.roundTrips;
    });
    return client.sql;
  };
  return {
    db: database,
    run: async (work) => {
      try {
        return await requestConnection.run(open, work);
      } finally {
        finished = true;
        client?.release();
        client = undefined;
      }
    },
    traffic: () => ({ ...traffic }),
  };
}
