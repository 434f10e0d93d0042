import { z } from '@hono/zod-openapi';

/** RFC 9457 problem details, the one error shape of the API. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string().openapi({ example: 'Not Found' }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: 'project not found' }),
    request_id: z.string().openapi({ example: '4f1c2a9e-0f3b-4c47-9d53-1a8f0c6d2b11' }),
    code: z
      .string()
      .optional()
      .openapi({ description: 'A stable snake_case identifier of the error, for clients to branch on (`password_too_weak`).', example: 'password_too_weak' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'Present on validation failures (422): one entry per invalid field.' }),
    allowed: z
      .array(z.uuid())
      .optional()
      .openapi({ description: 'Present when a task transition is not allowed (409): the states the task may move to.' }),
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
 * renders it once as problem+json. Headers carry protocol details such as `WWW-Authenticate`.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: ErrorStatus;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  /** A stable identifier of the error (`password_too_weak`), in the problem document as `code`. */
  readonly code: string | undefined;
  /** Extension members of the problem document (RFC 9457 section 3.2), declared in ProblemSchema. */
  readonly extensions: Pick<Problem, 'allowed'>;

  constructor(
    status: ErrorStatus,
    detail: string,
    options: { code?: string; errors?: FieldError[]; headers?: Record<string, string>; extensions?: Pick<Problem, 'allowed'> } = {},
  ) {
    super(detail);
    this.status = status;
    this.code = options.code;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export const notFound = (what: string) => new AppError(404, `${what} not found`);
export const forbidden = (detail: string) => new AppError(403, detail);
export const conflict = (detail: string) => new AppError(409, detail);
/** A quoted-string of RFC 9110 (section 5.6.4): backslash and double quote escaped. */
const quoted = (text: string) => `"${text.replace(/[\\"]/g, (character) => `\\${character}`)}"`;

/** RFC 6750: a request without credentials gets a bare challenge, a bad token an `invalid_token` one. */
export const unauthorized = (detail: string, options: { credentialsSent?: boolean } = {}) =>
  new AppError(401, detail, {
    headers: {
      'WWW-Authenticate':
        options.credentialsSent === false ? 'Bearer realm="aegisflow"' : `Bearer realm="aegisflow", error="invalid_token", error_description=${quoted(detail)}`,
    },
  });
/** The database cannot be reached: clients should retry, so the answer says when. */
export const serviceUnavailable = (detail: string) => new AppError(503, detail, { headers: { 'Retry-After': '5' } });
export const databaseUnavailable = () => serviceUnavailable('the database is unavailable; retry shortly');
export const validationFailed = (errors: FieldError[]) =>
  new AppError(422, 'the request failed validation', { errors });

export function problemBody(
  status: ErrorStatus,
  detail: string,
  requestId: string,
  errors?: FieldError[],
  extensions: Pick<Problem, 'allowed'> = {},
  code?: string,
): Problem {
  return {
    type: 'about:blank',
    title: STATUS_TITLES[status],
    status,
    detail,
    request_id: requestId,
    ...(code ? { code } : {}),
    ...(errors ? { errors } : {}),
    ...extensions,
  };
}

export function problemResponse(
  status: ErrorStatus,
  detail: string,
  requestId: string,
  options: { code?: string; errors?: FieldError[]; headers?: Record<string, string>; extensions?: Pick<Problem, 'allowed'> } = {},
): Response {
  return new Response(JSON.stringify(problemBody(status, detail, requestId, options.errors, options.extensions, options.code)), {
    status,
    headers: { 'Content-Type': 'application/problem+json', 'X-Request-Id': requestId, ...options.headers },
  });
}
