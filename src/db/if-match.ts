import { sql, type Column } from 'drizzle-orm';
import type { Precondition } from '../lib/etag.ts';

/**
 * If-Match inside a conditional write: no header ('any': no condition), valid tags ('listed': the row's
 * version must be one of them), or only tags that are not ours ('none': the write matches nothing). The
 * form is part of a prepared statement's shape; the versions fill its `versions` placeholder as an array
 * literal (versions are integers, lib/etag.ts).
 */
export type VersionForm = 'any' | 'listed' | 'none';

export function ifMatchValues(precondition: Precondition | undefined): {
  form: VersionForm;
  versions: string | undefined;
} {
  const versions = precondition?.kind === 'versions' ? precondition.versions : undefined;
  const form = versions === undefined ? 'any' : versions.length ? 'listed' : 'none';
  return { form, versions: versions && `{${versions.join(',')}}` };
}

/** The WHERE condition of `form` on a row's version column (undefined: none). */
export const versionMatches = (version: Column, form: VersionForm) =>
  ({ any: undefined, listed: sql`${version} = any(${sql.placeholder('versions')}::integer[])`, none: sql`false` })[
    form
  ];
