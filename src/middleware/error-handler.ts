import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../context.ts';
import { classifyDatabaseError } from '../db/errors.ts';
import { AppError, databaseUnavailable, problemResponse } from '../lib/problem.ts';

// Hono raises these itself (body parsing, content negotiation); the text is ours, never the library's.
const HTTP_EXCEPTION_DETAILS: Record<number, string> = {
  400: 'the request body is not well-formed',
  413: 'the request body is larger than 1 MiB',
  415: 'the Content-Type is not supported by this endpoint',
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
  if (error instanceof HTTPException && error.status in HTTP_EXCEPTION_DETAILS) {
    return new AppError(error.status as 400 | 413 | 415, HTTP_EXCEPTION_DETAILS[error.status]!);
  }
  switch (classifyDatabaseError(error)) {
    case 'unavailable':
      return databaseUnavailable();
    case 'invalid-value':
      return new AppError(422, 'a value in the request is not acceptable');
    case 'conflict':
      return new AppError(409, 'the request conflicts with a concurrent change; retry');
  }
  return new AppError(500, 'an unexpected error occurred');
}

/** The single place errors become responses: problem+json, never a stack, SQL or internal name. */
export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  const appError = toAppError(error);
  return problemResponse(appError.status, appError.message, requestIdOf(c), {
    code: appError.code,
    errors: appError.errors,
    headers: appError.headers,
    extensions: appError.extensions,
  });
};

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(404, 'no such route', requestIdOf(c));
