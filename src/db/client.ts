import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { openDatabaseSocket, type Traffic } from './socket.ts';

export type Database = PostgresJsDatabase;

export interface DatabaseHandle {
  db: Database;
  /**
   * Statements and round trips so far on this request, counted on the wire (for Server-Timing, the tests
   * and the benchmark). In production every round trip crosses from the edge to the database.
   */
  traffic: () => Traffic;
}

/**
 * One client per request: workerd forbids sharing I/O objects between requests, and Hyperdrive pools
 * the real connections. The client is never ended by hand; the runtime closes its socket when the
 * invocation finishes (`sql.end()` on workerd leaves an unhandled rejection, porsager/postgres#1202).
 */
export function createDatabase(connectionString: string, connectTimeoutSeconds: number): DatabaseHandle {
  const traffic: Traffic = { statements: 0, roundTrips: 0 };
  let db: Database | undefined;
  // Built on first use: routes that never query (health, docs) skip the client set-up entirely.
  const open = () =>
    postgres(connectionString, {
      max: 1,
      fetch_types: false,
      // Unnamed statements: a connection lives for one request, so a named one would never be reused,
      // and PostgreSQL would keep a copy of each until the pool resets the session.
      prepare: false,
      connect_timeout: connectTimeoutSeconds,
      // Documented postgres.js option, missing from its type definitions.
      ...({
        socket: ({ host, port }: { host: string[]; port: number[] }) =>
          openDatabaseSocket(host[0]!, port[0]!, connectTimeoutSeconds, (sent) => {
            traffic.statements += sent.statements;
            traffic.roundTrips += sent.roundTrips;
          }),
      } as object),
      idle_timeout: 0,
      // A connection here lives for one request; postgres.js would otherwise arm a 30-60 minute
      // lifetime timer for each one.
      max_lifetime: 0,
      onnotice: () => {},
    });
  return {
    // No `schema` option: the relational query API is unused, and building its config costs every request.
    get db() {
      return (db ??= drizzle(open()));
    },
    traffic: () => ({ ...traffic }),
  };
}
