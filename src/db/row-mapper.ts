import { Column, getTableName, is } from 'drizzle-orm';
import { decoderOf, type Decoder, type PreparedInternals, type SelectedField } from './internals.ts';

/*
 * drizzle turns each result row into objects with `mapResultRow`, which works out, for every cell of every
 * row, what kind of field the column is (three `is` checks, each an instanceof and a property lookup) and
 * walks its path with an iterator. For a page of 50 tasks that is 2,000 cells: a quarter of the worker's
 * CPU on GET /projects/{id}/tasks (a profile in bench/README.md). A prepared statement's fields never
 * change, so `compileRowMapper` works all of that out once and leaves each cell a decode and an assignment.
 * The result is the same as drizzle's, nulled left-joined objects included (test/db/row-mapper.test.ts).
 */

interface Cell {
  parents: string[];
  key: string;
  decoder: Decoder;
  /** For a table column at depth two: its object and table, for nulling an object a left join did not find. */
  joined: { object: string; table: string } | undefined;
}

export function compileRowMapper(fields: SelectedField[], joinsNotNullableMap: Record<string, boolean> | undefined) {
  const cells: Cell[] = fields.map(({ path, field }) => ({
    parents: path.slice(0, -1),
    key: path.at(-1)!,
    decoder: decoderOf(field),
    joined:
      joinsNotNullableMap && is(field, Column) && path.length === 2
        ? { object: path[0]!, table: getTableName(field.table) }
        : undefined,
  }));
  const mapRow = (row: unknown[]): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    // Per object: the table whose columns were all null so far, or false once one was not (drizzle's rule).
    const nullify: Record<string, string | false> = {};
    for (let index = 0; index < cells.length; index++) {
      const cell = cells[index]!;
      let node = result;
      for (const parent of cell.parents) {
        if (!(parent in node)) node[parent] = {};
        node = node[parent] as Record<string, unknown>;
      }
      const raw = row[index];
      const value = (node[cell.key] = raw === null ? null : cell.decoder.mapFromDriverValue(raw));
      if (cell.joined) {
        const seen = nullify[cell.joined.object];
        if (seen === undefined) nullify[cell.joined.object] = value === null ? cell.joined.table : false;
        else if (typeof seen === 'string' && seen !== cell.joined.table) nullify[cell.joined.object] = false;
      }
    }
    for (const object in nullify) {
      const table = nullify[object];
      if (typeof table === 'string' && !joinsNotNullableMap![table]) result[object] = null;
    }
    return result;
  };
  return (rows: unknown[][]) => rows.map(mapRow);
}

/** Gives a prepared statement that returns rows the compiled mapper; anything else is left as it is. */
export function withCompiledRowMapper<T>(statement: T): T {
  const internals = statement as PreparedInternals;
  if (Array.isArray(internals.fields) && internals.customResultMapper === undefined) {
    internals.customResultMapper = compileRowMapper(internals.fields, internals.joinsNotNullableMap);
  }
  return statement;
}
