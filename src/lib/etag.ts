import { z } from '@hono/zod-openapi';

/**
 * Strong entity tags derived from a row version, and the precondition rules of RFC 9110 section 13.1:
 * `If-Match` (13.1.1) compares strongly, so weak tags never match; `If-None-Match` (13.1.2) compares
 * weakly, so `W/"3"` matches version 3. In both, `*` matches any current representation, a list matches
 * if any entry does, and entries that are not tags of ours match nothing.
 */
export type Precondition = { kind: 'any' } | { kind: 'versions'; versions: number[] };

export const etagFor = (version: number) => `"${version}"`;

const STRONG_TAG = /^"(\d{1,9})"$/;
const STRONG_OR_WEAK_TAG = /^(?:W\/)?"(\d{1,9})"$/;

function parsePrecondition(header: string | undefined, tag: RegExp): Precondition | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return { kind: 'any' };
  const versions = header
    .split(',')
    .map((entry) => tag.exec(entry.trim())?.[1])
    .filter((version): version is string => version !== undefined)
    .map(Number);
  return { kind: 'versions', versions };
}

/** A header that names no valid tag matches nothing, so a write under it is refused rather than applied. */
export const parseIfMatch = (header: string | undefined) => parsePrecondition(header, STRONG_TAG);

/** `If-None-Match` on a read: when it matches the current version, the answer is 304 Not Modified. */
export const parseIfNoneMatch = (header: string | undefined) => parsePrecondition(header, STRONG_OR_WEAK_TAG);

/** True when `If-None-Match` names the current version (or is `*`), so a GET answers 304. */
export const isNotModified = (ifNoneMatch: Precondition | undefined, version: number) =>
  ifNoneMatch !== undefined && (ifNoneMatch.kind === 'any' || ifNoneMatch.versions.includes(version));

/** A header carrying entity tags (`If-Match`, `If-None-Match`): parsed by the functions above, so any text is accepted. */
const entityTagsHeader = (description: string) =>
  z.string().max(1000).optional().openapi({ description, example: '"1"' });

export const IfNoneMatchHeaders = z.object({
  'if-none-match': entityTagsHeader('ETags the client already has; when one is current the answer is 304 with no body'),
});

export const IfMatchHeaders = z.object({
  'if-match': entityTagsHeader('An ETag from a previous response; on mismatch the request fails with 412'),
});
