import { sql, type Column } from 'drizzle-orm';
import { etagFor, type Precondition } from '../lib/etag.ts';
import { AppError } from '../lib/problem.ts';
import { guard } from './guards.ts';
import { slots } from './statements.ts';

/**
 * If-Match inside a guarded write: the `versions` placeholder holds the versions its tags name as an array
 * literal (versions are integers, lib/etag.ts), or null when any version will do (no header, or `*`).
 * Only tags that are not ours give an empty array, which no version matches.
 */
export type IfMatchValues = { versions: string | null };

export function ifMatchValues(precondition: Precondition | undefined): IfMatchValues {
  const versions = precondition?.kind === 'versions' ? precondition.versions : undefined;
  return { versions: versions ? `{${versions.join(',')}}` : null };
}

const $ = slots<IfMatchValues>();

/** The guard of a row's `version` column against If-Match: 412 with the row's current ETag (its facts' `version`). */
export const versionGuard = <Facts extends { version: number | null }>(version: Column, what: string) =>
  guard<Facts>(
    'version_matches',
    sql`(${$.versions}::integer[] is null or ${version} = any(${$.versions}::integer[]))`,
    (facts) =>
      new AppError('precondition_failed', `If-Match does not match the current version of the ${what}`, {
        headers: { ETag: etagFor(facts.version ?? 0) },
      }),
  );
