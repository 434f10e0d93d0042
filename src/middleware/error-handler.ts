import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../context.ts';
import { classifyDatabaseError } from '../db/errors.ts';
import { AppError, databaseUnavailable, problemResponse } from '../lib/problem.ts';
import type { ProblemCode } from '../lib/problem-codes.ts';

// Hono raises these itself (body parsing, content negotiation); the text is ours, never the library's.
const HTTP_EXCEPTIONS: Record<number, [ProblemCode, string]> = {
  400: ['malformed_json', 'the request body is not well-formed'],
  413: ['content_too_large', 'the request body is larger than 1 MiB'],
  415: ['unsupported_media_type', 'the Content-Type is not supported by this endpoint'],
};

function requestIdOf(c: Context<AppEnv>): string {
  return c.get('requestId') ?? crypto.randomUUID();
}

/**
 * Turns anything thrown into the AppError it stands for; anything unknown becomes a 500. The request's
 * log line (middleware/request-log.ts) says what was thrown.
 */
function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException && error.status in HTTP_EXCEPTIONS) {
    const [code, detail] = HTTP_EXCEPTIONS[error.status]!;
    return new AppError(code, detail);
  }
  switch (classifyDatabaseError(error)) {
    case 'unavailable':
      return databaseUnavailable();
    case 'invalid-value':
      return new AppError('validation_failed', 'a value in the request is not acceptable');
    case 'conflict':
      return new AppError('changed_meanwhile', 'the request conflicts with a concurrent change; retry');
  }
  return new AppError('internal_error', 'an unexpected error occurred');
}

/** The single place errors become responses: problem+json, never a stack, SQL or internal name. */
export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  const appError = toAppError(error);
  return problemResponse(appError, requestIdOf(c));
};

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(new AppError('route_not_found', 'no such route'), requestIdOf(c));
