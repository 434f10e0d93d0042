import { sql, type Placeholder } from 'drizzle-orm';
import type { Database } from './client.ts';
import { withCompiledRowMapper } from './row-mapper.ts';

/*
 * Statements declared once, at module scope, keyed by their shape. Building a statement costs drizzle more
 * CPU than the rest of a typical request's JavaScript (bench/README.md), filling in its placeholders almost
 * nothing, so each is built once per isolate and shape and only filled in afterwards.
 *
 *   const $ = slots<CallerValues & { projectId: string }>();
 *   const PROJECT = statement('project', $, (db) => db.select()...where(and(isCaller($), eq(projects.id, $.projectId))));
 *   const [row] = await PROJECT.on(db).execute({ ...callerValues(caller), projectId });
 *
 * A family of statements that differ by which filters a list has (or the like) declares each dimension's
 * values; its builder sees only the shape, never the request, so two requests that share a cache entry
 * share everything the builder read, and the cache key is derived from the shape rather than written by hand.
 * `$` types the placeholders: naming one the family did not declare, or executing without a value the
 * family declared (the caller's, say), fails `tsc`. Every family's SQL, for representative shapes, is
 * committed in sql/statements.sql (`npm run sql`; `--check` in CI), so a change to a statement shows in
 * review. Statements that cannot be declared once (built inside a transaction from what it read) are built
 * by helpers whose names end in `PerCall`.
 */

declare const valuesType: unique symbol;

/** The placeholders of a statement executed with `Values`: `$.callerId` is `sql.placeholder('callerId')`. */
export type Slots<Values> = { readonly [Name in keyof Values & string]-?: Placeholder<Name> } & {
  readonly [valuesType]?: Values;
};

/** The typed placeholders of statements executed with `Values` (see `Slots`). */
export const slots = <Values extends object>(): Slots<Values> =>
  new Proxy({} as Slots<Values>, {
    get: (_, name) => (typeof name === 'string' ? sql.placeholder(name) : undefined),
  });

/** What a family varies by: each dimension's possible values, the first one the most common. */
export type Domains = Record<string, readonly (string | boolean)[]>;
export type ShapeOf<D extends Domains> = { readonly [Key in keyof D]: D[Key][number] };

/** A statement before it is prepared: a drizzle query builder. */
interface Buildable<Prepared> {
  prepare(name: string): Prepared;
  toSQL(): { sql: string };
}

/** A prepared statement whose execute takes exactly the declared values. */
export type Executable<Prepared, Values> = Prepared extends { execute(values?: never): infer Result }
  ? Omit<Prepared, 'execute'> & { execute(values: Values): Result }
  : never;

const cache = new WeakMap<Database, Map<string, unknown>>();
const names = new Set<string>();

/** Every family declared, by name, for the SQL snapshot. */
export const STATEMENT_FAMILIES: StatementFamily<Domains, object, unknown>[] = [];

export class StatementFamily<D extends Domains, Values extends object, Prepared> {
  private readonly dimensions: (keyof D & string)[];
  readonly name: string;
  readonly domains: D;
  private readonly build: (db: Database, shape: ShapeOf<D>, $: Slots<Values>) => Buildable<Prepared>;
  private readonly $: Slots<Values>;

  constructor(
    name: string,
    domains: D,
    build: (db: Database, shape: ShapeOf<D>, $: Slots<Values>) => Buildable<Prepared>,
    $: Slots<Values>,
  ) {
    this.name = name;
    this.domains = domains;
    this.build = build;
    this.$ = $;
    if (!/^[a-z][a-z_]*$/.test(name) || names.has(name)) throw new Error(`statement name ${name} is not unique`);
    names.add(name);
    this.dimensions = Object.keys(domains);
    STATEMENT_FAMILIES.push(this as unknown as StatementFamily<Domains, object, unknown>);
  }

  /** The key a shape is cached (and prepared) under: the name, then each dimension's value in order. */
  key(shape: ShapeOf<D>): string {
    let key = this.name;
    for (const dimension of this.dimensions) key += `:${shape[dimension]}`;
    return key;
  }

  /** The statement of `shape` on `db`, built and prepared on first use (with a row mapper compiled for it). */
  on(db: Database, shape: ShapeOf<D>): Executable<Prepared, Values> {
    let statements = cache.get(db);
    if (!statements) cache.set(db, (statements = new Map()));
    const key = this.key(shape);
    let statement = statements.get(key);
    if (!statement) {
      statement = withCompiledRowMapper(this.builder(db, shape).prepare(key));
      statements.set(key, statement);
    }
    return statement as Executable<Prepared, Values>;
  }

  /** The SQL text of `shape` (for the snapshot; nothing is executed). */
  text(db: Database, shape: ShapeOf<D>): string {
    return this.builder(db, shape).toSQL().sql;
  }

  /** The shapes the snapshot shows: every dimension at its first value, then each other value of each in turn. */
  representativeShapes(): ShapeOf<D>[] {
    const base = Object.fromEntries(this.dimensions.map((dimension) => [dimension, this.domains[dimension]![0]]));
    const shapes = [base];
    for (const dimension of this.dimensions) {
      for (const value of this.domains[dimension]!.slice(1)) shapes.push({ ...base, [dimension]: value });
    }
    return shapes as ShapeOf<D>[];
  }

  /** The builder's view of `shape`: its declared dimensions only, each one of its declared values. */
  private builder(db: Database, shape: ShapeOf<D>): Buildable<Prepared> {
    const seen: Record<string, unknown> = {};
    for (const dimension of this.dimensions) {
      const value = shape[dimension];
      if (!this.domains[dimension]!.includes(value)) {
        throw new Error(`statement ${this.name}: ${dimension} = ${String(value)} is not a declared shape`);
      }
      seen[dimension] = value;
    }
    return this.build(db, Object.freeze(seen) as ShapeOf<D>, this.$);
  }
}

/** Both values of a dimension that is on or off (a filter given or not), off first. */
export const FLAG = [false, true] as const;

/** A family of statements that differ by `domains` (see above). */
export const statementFamily = <const D extends Domains, Values extends object, Prepared>(
  name: string,
  domains: D,
  $: Slots<Values>,
  build: (db: Database, shape: ShapeOf<D>, $: Slots<Values>) => Buildable<Prepared>,
) => new StatementFamily(name, domains, build, $);

/** A statement of one shape. */
export function statement<Values extends object, Prepared>(
  name: string,
  $: Slots<Values>,
  build: (db: Database, $: Slots<Values>) => Buildable<Prepared>,
) {
  const family = new StatementFamily(name, {}, (db, _shape, slots) => build(db, slots), $);
  return { name, on: (db: Database) => family.on(db, {}) };
}
