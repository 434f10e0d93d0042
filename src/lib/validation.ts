import { z } from '@hono/zod-openapi';

// Postgres rejects NUL in text and the rest of C0/C1 has no place in names or emails; refusing them in
// the schema keeps every such request a 422 instead of a database error.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_CHARACTERS_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/*
 * Format characters (Unicode category Cf) are invisible: bidirectional overrides make a name read
 * differently from how it sorts and compares ("Trojan Source"), zero-width ones make two names that look
 * alike differ. A name has no use for them, except the zero-width joiner inside an emoji sequence (👩‍💻),
 * which is allowed between two pictographs.
 */
const FORMAT_CHARACTERS = /\p{Cf}/u;
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}\uFE0F?)\u200D(?=\p{Extended_Pictographic})/gu;

/** A single-line text field: trimmed, free of control and format characters, within the given length. */
export function singleLineText(min: number, max: number) {
  const text = z
    .string()
    .trim()
    .min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
    .refine(
      (value) => !FORMAT_CHARACTERS.test(value.replace(EMOJI_JOINER, '')),
      'must not contain invisible formatting characters (bidirectional or zero-width)',
    );
  // Trimmed before the length is checked, so only spaces is empty: the document says a visible character is needed.
  return min > 0 ? text.openapi({ pattern: '\\S' }) : text;
}

/** Free text that may span lines (tabs and newlines allowed, other control characters not). */
export function multiLineText(max: number) {
  return z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTERS_EXCEPT_WHITESPACE.test(value), 'must not contain control characters');
}

// The document describes the input side of the pipe, so the format is stated there too.
export const emailField = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .openapi({ format: 'email' })
  .pipe(z.email('must be a valid email address'))
  .openapi({ format: 'email', example: 'ada@example.com' });

/** Path parameters of every `/{id}` route; a malformed id is a 422 before any query runs. */
export const IdParams = z.object({
  id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'id', in: 'path' }, example: '0b7e7a5c-8f1e-4d3a-9a55-2f6c1d9e4b21' }),
});

export const timestamp = z.iso.datetime({ offset: true }).openapi({ example: '2026-11-25T10:00:00.000Z' });

/**
 * For a partial update's OpenAPI schema: at least one of `fields` must be present, as the body's own
 * refinement says (zod's refinements do not reach the document).
 */
export const atLeastOneOf = (fields: readonly string[]) => fields.map((field) => ({ required: [field] }));
