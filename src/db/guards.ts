import { getTableName, sql, type SQL, type SQLWrapper, type Subquery } from 'drizzle-orm';
import { QueryBuilder, type PgSelect, type PgTable, type SelectedFields } from 'drizzle-orm/pg-core';
import type { AppError } from '../lib/problem.ts';
import { postgresCode, violatedConstraint } from './errors.ts';

/*
 * Guarded writes: each conditional write declares its rules once, as an ordered list of guards, each a SQL
 * condition paired with the problem its failure becomes. The write's statement evaluates every guard in a
 * `facts` CTE over what the write is about (the target row, locked, so what the guards judge is exactly what
 * the write changes; the caller and their membership), writes only when all of them hold, and answers the
 * facts whether it wrote or not. A refusal is the first guard that failed: one statement, one round trip,
 * and no second copy of a rule anywhere to drift from the first.
 *
 *   const facts = db.$with('facts').as(db.select(WRITE.facts({ ...values the refusals or the write need }))
 *     .from(oneRow).leftJoinLateral(lockedTarget, sql`true`)...);
 *   const changed = db.$with('changed').as(db.update(t).set(...).from(facts).where(and(eq(t.id, facts.id), WRITE.allHold(facts))));
 *   return db.with(facts, changed).select({ guards: WRITE.results(facts), facts: ..., written: ... })
 *     .from(facts).leftJoin(changed, sql`true`);
 *   const row = WRITE.outcome(await WRITE.run(statement.execute(values)));
 */

/** One rule of a write. */
export interface Guard<Facts> {
  /** snake_case: the facts column that holds its result, and how tests name it. */
  readonly name: string;
  /** True when the write may go ahead, over the facts CTE's FROM; NULL counts as false. */
  readonly holds: SQLWrapper;
  /** The problem a failure becomes, given the facts the statement returned. */
  readonly refusal: (facts: Facts) => AppError;
  /**
   * The unique constraint (by name) or trigger SQLSTATE by which the database itself refuses what this guard
   * refuses: when a concurrent write breaks the rule after this statement read the facts (the guard judged
   * the older state), the error it raises is this guard's refusal all the same.
   */
  readonly enforcedBy?: string;
}

export const guard = <Facts = unknown>(
  name: string,
  holds: SQLWrapper,
  refusal: (facts: Facts) => AppError,
  enforcedBy?: string,
): Guard<Facts> => ({ name, holds, refusal, enforcedBy });

/** A facts CTE (or any selection of it) as drizzle exposes its fields. */
type FactsSource = Record<string, unknown>;

/** The statement's answer: each guard's result, the facts refusals read, and the written row (null if none). */
export interface GuardedRow<Facts, Written> {
  guards: Record<string, boolean>;
  facts: Facts;
  written: Written | null;
}

/** An ordered list of guards, declared once at module scope per conditional write. */
export class GuardedWrite<Facts = Record<string, never>> {
  readonly guards: readonly Guard<Facts>[];

  constructor(...guards: Guard<Facts>[]) {
    const names = new Set(guards.map((rule) => rule.name));
    if (names.size !== guards.length) throw new Error('guard names must be unique within a write');
    this.guards = guards;
  }

  /** The facts CTE's selection: `columns`, and each guard's result as a boolean column of its name. */
  facts<Columns extends SelectedFields>(columns: Columns): Columns & Record<string, SQL.Aliased<boolean>> {
    const results = Object.fromEntries(
      this.guards.map((rule) => [rule.name, sql<boolean>`coalesce(${rule.holds}, false)`.as(rule.name)]),
    );
    for (const name of Object.keys(results)) {
      if (name in columns) throw new Error(`the fact ${name} is also a guard's name`);
    }
    return { ...columns, ...results };
  }

  /** For the write's WHERE: every guard held, as the facts CTE `facts` recorded. */
  allHold(facts: FactsSource): SQL {
    return sql`(${sql.join(
      this.guards.map((rule) => sql`${facts[rule.name]}`),
      sql` and `,
    )})`;
  }

  /** For the statement's selection: every guard's result, from the facts CTE `facts`. */
  results(facts: FactsSource): Record<string, SQL<boolean>> {
    return Object.fromEntries(this.guards.map((rule) => [rule.name, sql<boolean>`${facts[rule.name]}`]));
  }

  /** Runs the statement: an error by which the database enforces a guard (`enforcedBy`) becomes its refusal. */
  async run<Row>(pending: Promise<Row[]>): Promise<Row> {
    try {
      const [row] = await pending;
      if (!row) throw new Error('a guarded write answered no row: its facts CTE must yield exactly one');
      return row;
    } catch (error) {
      const enforced = this.guards.find(
        (rule) =>
          rule.enforcedBy !== undefined &&
          (rule.enforcedBy === violatedConstraint(error) || rule.enforcedBy === postgresCode(error)),
      );
      if (enforced) throw enforced.refusal({} as Facts);
      throw error;
    }
  }

  /** The written row, or the refusal of the first guard that failed. */
  outcome<Written>(row: GuardedRow<Facts, Written>): Written {
    const failed = this.refusal(row.guards);
    if (failed) throw failed.refusal(row.facts);
    // Unreachable while the facts hold the target row locked: the write sees what the guards saw.
    if (row.written === null) throw new Error('a guarded write wrote nothing although every guard held');
    return row.written;
  }

  /** The first guard that failed, in declaration order. */
  refusal(results: Record<string, boolean>): Guard<Facts> | undefined {
    return this.guards.find((rule) => results[rule.name] !== true);
  }
}

/** The FROM of a facts CTE: one row, to which everything the guards read is left-joined. */
export const oneRow = sql`(values (true)) as request(one)`;

const subquery = new QueryBuilder();

/**
 * The row of `table` that `where` finds, locked FOR NO KEY UPDATE (the lock its UPDATE takes anyway), under
 * the table's own name: left-joined LATERAL into a facts CTE, the guards' references to `table`'s columns
 * read it. Locked, it is the newest committed version and nothing changes it before the write does, so the
 * guards judge exactly the row the write changes, however many writers race (the write waits its turn here).
 */
export const lockedRow = (table: PgTable, where: SQL): Subquery =>
  (subquery.select().from(table).where(where).for('no key update') as unknown as PgSelect).as(getTableName(table));
