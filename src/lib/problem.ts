import { z } from '@hono/zod-openapi';
import { PROBLEM_CODE_NAMES, PROBLEM_CODES, type ProblemCode } from './problem-codes.ts';

/** RFC 9457 problem details, the one error shape of the API. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string().openapi({ example: 'Not Found' }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: 'project not found' }),
    request_id: z.string().openapi({ example: '4f1c2a9e-0f3b-4c47-9d53-1a8f0c6d2b11' }),
    code: z.enum(PROBLEM_CODE_NAMES).openapi({
      description: 'A stable identifier of the error, for clients to branch on; the README lists them all',
      example: 'not_found',
    }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'Present on validation failures (422): one entry per invalid field.' }),
    allowed: z.array(z.uuid()).optional().openapi({
      description: 'Present when a task transition is not allowed (409): the states the task may move to.',
    }),
  })
  .openapi('Problem');
export type Problem = z.infer<typeof ProblemSchema>;

export const STATUS_TITLES = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
} as const;
export type ErrorStatus = keyof typeof STATUS_TITLES;

export interface FieldError {
  path: string;
  message: string;
}

/**
 * The error every layer throws: services say what went wrong in domain terms, and the error handler
 * renders it once as problem+json. The code names the refusal and decides the status (problem-codes.ts),
 * so the two cannot disagree. Headers carry protocol details such as `WWW-Authenticate`.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ProblemCode;
  readonly status: ErrorStatus;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  /** Extension members of the problem document (RFC 9457 section 3.2), declared in ProblemSchema. */
  readonly extensions: Pick<Problem, 'allowed'>;

  constructor(
    code: ProblemCode,
    detail: string,
    options: { errors?: FieldError[]; headers?: Record<string, string>; extensions?: Pick<Problem, 'allowed'> } = {},
  ) {
    super(detail);
    this.code = code;
    this.status = PROBLEM_CODES[code][0];
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const forbidden = (code: ProblemCode & ForbiddenCode, detail: string) => new AppError(code, detail);
export const conflict = (code: ProblemCode & ConflictCode, detail: string) => new AppError(code, detail);
/** A quoted-string of RFC 9110 (section 5.6.4): backslash and double quote escaped. */
const quoted = (text: string) => `"${text.replace(/[\\"]/g, (character) => `\\${character}`)}"`;

/** RFC 6750: a request without credentials gets a bare challenge, a bad token an `invalid_token` one. */
export const unauthorized = (
  code: ProblemCode & UnauthorizedCode,
  detail: string,
  options: { credentialsSent?: boolean } = {},
) =>
  new AppError(code, detail, {
    headers: {
      'WWW-Authenticate':
        options.credentialsSent === false
          ? 'Bearer realm="aegisflow"'
          : `Bearer realm="aegisflow", error="invalid_token", error_description=${quoted(detail)}`,
    },
  });
/** The request cannot be served now: clients should retry, so the answer says when. */
export const serviceUnavailable = (code: 'database_unavailable' | 'timed_out', detail: string) =>
  new AppError(code, detail, { headers: { 'Retry-After': '5' } });
export const databaseUnavailable = () =>
  serviceUnavailable('database_unavailable', 'the database is unavailable; retry shortly');
export const validationFailed = (errors: FieldError[]) =>
  new AppError('validation_failed', 'the request failed validation', { errors });

/** The codes of one status, for the helpers above: `conflict('email_taken', ...)` type-checks, `conflict('not_found', ...)` does not. */
type CodeOf<Status extends number> = {
  [Code in ProblemCode]: (typeof PROBLEM_CODES)[Code][0] extends Status ? Code : never;
}[ProblemCode];
type ForbiddenCode = CodeOf<403>;
type ConflictCode = CodeOf<409>;
type UnauthorizedCode = CodeOf<401>;

export function problemBody(error: AppError, requestId: string): Problem {
  return {
    type: 'about:blank',
    title: STATUS_TITLES[error.status],
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: requestId,
    ...(error.errors ? { errors: error.errors } : {}),
    ...error.extensions,
  };
}

export function problemResponse(error: AppError, requestId: string): Response {
  return new Response(JSON.stringify(problemBody(error, requestId)), {
    status: error.status,
    headers: { 'Content-Type': 'application/problem+json', 'X-Request-Id': requestId, ...error.headers },
  });
}
