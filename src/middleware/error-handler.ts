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
 * What a log line may say about an error. Drizzle's query errors quote the statement's parameters
 * (emails, password hashes), so for those only the driver's cause is kept.
 */
function describeError(error: unknown): Record<string, unknown> {
  const err = error instanceof Error ? error : new Error(String(error));
  if (err.message.startsWith('Failed query') && err.cause !== undefined) {
    return { name: err.name, message: 'database query failed', cause: describeError(err.cause) };
  }
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(code ? { code } : {}), stack: err.stack };
}

function logError(c: Context<AppEnv>, error: unknown, message: string) {
  console.error(
    JSON.stringify({
      level: 'error',
      message,
      request_id: requestIdOf(c),
      method: c.req.method,
      path: c.req.path,
      error: describeError(error),
    }),
  );
}

/** Turns anything thrown into the AppError it stands for; unknown errors are logged and become a 500. */
function toAppError(error: unknown, c: Context<AppEnv>): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException && error.status in HTTP_EXCEPTION_DETAILS) {
    return new AppError(error.status as 400 | 413 | 415, HTTP_EXCEPTION_DETAILS[error.status]!);
  }
  switch (classifyDatabaseError(error)) {
    case 'unavailable':
      logError(c, error, 'database unavailable');
      return databaseUnavailable();
    case 'invalid-value':
      return new AppError(422, 'a value in the request is not acceptable');
    case 'conflict':
      logError(c, error, 'conflict with a concurrent change');
      return new AppError(409, 'the request conflicts with a concurrent change; retry');
  }
  logError(c, error, 'unhandled error');
  return new AppError(500, 'an unexpected error occurred');
}

/** The single place errors become responses: problem+json, never a stack, SQL or internal name. */
export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  const appError = toAppError(error, c);
  return problemResponse(appError.status, appError.message, requestIdOf(c), {
    errors: appError.errors,
    headers: appError.headers,
    extensions: appError.extensions,
  });
};

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(404, 'no such route', requestIdOf(c));
