/**
 * A task's place within its state is a key of decimal digits, compared byte by byte (the column's
 * collation is "C"), so moving a task writes one row: its new key lies between its new neighbours' keys.
 *
 * - A new task's key is its number padded to CREATED_KEY_LENGTH digits: creates need no neighbour (so
 *   concurrent creates cannot pick the same key) and sort in creation order.
 * - A moved task's key is always longer than CREATED_KEY_LENGTH, so it can never equal a created key, and
 *   always lies below the next created key above its neighbour, so tasks created later still sort after it.
 * Keys read as decimal fractions (0.d1d2d3...) and never end in 0, so there is always room between two.
 * - Moving tasks between the same two neighbours again and again lengthens the keys (about a quarter of a
 *   character a move); once a move's key would pass MAX_KEY_LENGTH, the state's keys are dealt out afresh
 *   (`rebalanceState`, tasks.reorder.ts), under the lock the move holds.
 */
export const MAX_KEY_LENGTH = 32;
export const CREATED_KEY_LENGTH = 12;

export const createdKey = (number: number) => String(number).padStart(CREATED_KEY_LENGTH, '0');

/** The shortest digit string strictly between `a` (or 0 when empty) and `b` (or 1 when null), as fractions. */
function midpoint(a: string, b: string | null): string {
  if (b !== null) {
    let common = 0;
    while ((a[common] ?? '0') === b[common]) common++;
    if (common > 0) return b.slice(0, common) + midpoint(a.slice(common), b.slice(common));
  }
  const low = a ? Number(a[0]) : 0;
  const high = b !== null ? Number(b[0]) : 10;
  if (high - low > 1) return String(Math.round((low + high) / 2));
  // Adjacent digits: b's first digit alone is between when b goes on; otherwise extend a.
  if (b !== null && b.length > 1) return b.slice(0, 1);
  return String(low) + midpoint(a.slice(1), null);
}

/**
 * A key for a task placed after `before` and before `after` (either may be missing: the start or end of
 * the state). Throws when the two are not in order, which the caller's lock rules out.
 */
export function keyBetween(before: string | null, after: string | null): string {
  if (before !== null && after !== null && before >= after)
    throw new RangeError(`keys out of order: ${before} >= ${after}`);
  // At the end of the state, stay below the next created key, which a later task will take.
  const ceiling = after ?? (before === null ? null : createdKey(Number(before.slice(0, CREATED_KEY_LENGTH)) + 1));
  let key = midpoint(before ?? '', ceiling);
  while (key.length <= CREATED_KEY_LENGTH) key = midpoint(before ?? '', key);
  return key;
}
