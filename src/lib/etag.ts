/**
 * Strong entity tags derived from a row version, and the `If-Match` rules of RFC 9110 section 13.1.1:
 * `*` matches any current representation, weak tags never match, and a list matches if any entry does.
 */
export type Precondition = { kind: 'any' } | { kind: 'versions'; versions: number[] };

export const etagFor = (version: number) => `"${version}"`;

export function parseIfMatch(header: string | undefined): Precondition | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return { kind: 'any' };
  const versions = header
    .split(',')
    .map((tag) => /^"(\d{1,9})"$/.exec(tag.trim())?.[1])
    .filter((version): version is string => version !== undefined)
    .map(Number);
  // A header that names no valid tag matches nothing, so the write is refused rather than applied.
  return { kind: 'versions', versions };
}

export function preconditionHolds(precondition: Precondition | undefined, version: number): boolean {
  return !precondition || precondition.kind === 'any' || precondition.versions.includes(version);
}
