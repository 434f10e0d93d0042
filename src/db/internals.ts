import { Column, is, SQL, Subquery } from 'drizzle-orm';
import type postgres from 'postgres';

/*
 * The internals of postgres.js and drizzle-orm the project relies on, all in this file, verified against the
 * versions in VERIFIED (test/db/internals.test.ts fails when the installed ones differ, so an upgrade
 * re-checks them; test/db/client.test.ts and test/db/row-mapper.test.ts check the behaviour itself):
 * - postgres.js: `postgres(options)` takes an options object that carries `shared` as already parsed and
 *   skips parsing it again (its own subscription client is built that way); `no_subscribe` is honoured only
 *   there; the `socket` option, documented but missing from its type definitions (db/client.ts).
 * - drizzle-orm: a prepared query's `fields`, `joinsNotNullableMap` and `customResultMapper`, and the
 *   `decoder` of its SQL class (db/row-mapper.ts).
 */
export const VERIFIED = { postgres: '3.4.9', 'drizzle-orm': '0.45.4' } as const;

/** postgres.js's options as it parses them; `shared` marks an object as parsed already. */
export type ParsedOptions = postgres.Sql['options'] & { shared: object };

/** Options for a new client on `parsed`: only what a connection changes as it runs, and the socket, are its own. */
export const clientOptionsOn = (
  parsed: ParsedOptions,
  socket: (address: { host: string[]; port: number[] }) => unknown,
) =>
  ({
    ...parsed,
    socket,
    parameters: {},
    shared: { retries: 0, typeArrayMap: {} },
    no_subscribe: true,
  }) as unknown as postgres.Options<Record<string, never>>;

/** A selected field as drizzle's prepared query keeps it: where in the result it goes, and what it is. */
export interface SelectedField {
  path: string[];
  field: unknown;
}

/** The parts of drizzle's prepared query (postgres-js session) that the compiled row mapper replaces. */
export interface PreparedInternals {
  fields?: SelectedField[];
  joinsNotNullableMap?: Record<string, boolean>;
  customResultMapper?: unknown;
}

export interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/** drizzle's choice of decoder for a field (`decoder` is internal to its SQL class, hence the casts). */
export function decoderOf(field: unknown): Decoder {
  const decoderOfSql = (sqlField: unknown) => (sqlField as { decoder: Decoder }).decoder;
  if (is(field, Column)) return field;
  if (is(field, SQL)) return decoderOfSql(field);
  if (is(field, Subquery)) return decoderOfSql((field as unknown as { _: { sql: unknown } })._.sql);
  return decoderOfSql((field as { sql: unknown }).sql);
}
