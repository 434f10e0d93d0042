/** What a request sent to the database, counted on the wire (db/socket.ts). */
export interface Traffic {
  statements: number;
  roundTrips: number;
}

/**
 * Traffic as the `Server-Timing` header carries it (SERVER_TIMING=true), and read back from it: the tests
 * and the benchmark take their statement and round-trip counts from here. In production every round trip
 * crosses from the edge to the database.
 */
export const trafficTiming = ({ statements, roundTrips }: Traffic) =>
  `db;desc="statements";dur=${statements}, db-rt;desc="round trips";dur=${roundTrips}`;

/** Work a request did besides the database: password hashes (each a deliberately slow computation). */
export interface RequestWork {
  passwordHashes: number;
}

export const workTiming = ({ passwordHashes }: RequestWork) => `pw;desc="password hashes";dur=${passwordHashes}`;

export function parseWorkTiming(header: string | null): RequestWork | undefined {
  const hashes = /pw;desc="password hashes";dur=(\d+)/.exec(header ?? '');
  return hashes ? { passwordHashes: Number(hashes[1]) } : undefined;
}

export function parseTrafficTiming(header: string | null): Traffic | undefined {
  const statements = /db;desc="statements";dur=(\d+)/.exec(header ?? '');
  const roundTrips = /db-rt;desc="round trips";dur=(\d+)/.exec(header ?? '');
  return statements && roundTrips
    ? { statements: Number(statements[1]), roundTrips: Number(roundTrips[1]) }
    : undefined;
}
