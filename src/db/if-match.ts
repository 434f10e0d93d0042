import { sql, type Column } from 'drizzle-orm';
import { etagFor, type Precondition } from '../lib/etag.ts';
import { AppError } from '../lib/problem.ts';
import { guard } from './guards.ts';

/**
 * If-Match inside a guarded write: the `versions` placeholder holds the versions its tags name as an array
 * literal (versions are integers, lib/etag.ts), or null when any version will do (no header, or `*`).
 * Only tags that are not ours give an empty array, which no version matches.
 */
export function ifMatchValues(precondition: Precondition | undefined): { versions: string | null } {
  const versions = precondition?.kind === 'versions' ? precondition.versions : undefined;
  return { versions: versions ? `{${versions.join(',')}}` : null };
}

/** The guard of a row's `version` column against If-Match: 412 with the row's current ETag (its facts' `version`). */
export const versionGuard = <Facts extends { version: number | null }>(version: Column, what: string) =>
  guard<Facts>(
    'version_matches',
    sql`(${sql.placeholder('versions')}::integer[] is null or ${version} = any(${sql.placeholder('versions')}::integer[]))`,
    (facts) =>
      new AppError('precondition_failed', `If-Match does not match the current version of the ${what}`, {
        headers: { ETag: etagFor(facts.version ?? 0) },
      }),
  );
