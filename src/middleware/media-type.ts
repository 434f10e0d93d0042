import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';
import { AppError } from '../lib/problem.ts';

/** The media types request bodies may have: JSON everywhere, and the OAuth2 form where login declares it. */
const ACCEPTED = new Set(['application/json', 'application/x-www-form-urlencoded']);

/**
 * A body's Content-Type must be one the contract declares. @hono/zod-openapi's own check would also let
 * any `application/*+json` through where only `application/json` is declared (and multipart where the form
 * is), so a request the document says is unsupported could change data; here it is a 415 first. A route
 * that declares JSON only still refuses the form type itself.
 */
export const acceptDeclaredMediaTypes = createMiddleware<AppEnv>(async (c, next) => {
  const contentType = c.req.header('Content-Type');
  if (contentType !== undefined && !ACCEPTED.has(contentType.split(';')[0]!.trim().toLowerCase())) {
    throw new AppError(
      'unsupported_media_type',
      `a request body must be application/json${c.req.path === '/auth/login' ? ' or application/x-www-form-urlencoded' : ''}`,
    );
  }
  await next();
});
