import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';

/** What a client's own X-Request-Id may look like to be kept beside ours (in the request log only). */
const CLIENT_REQUEST_ID = /^[\w\-=.:]{1,128}$/;

/**
 * Every request gets an id of the server's own (`X-Request-Id` on the response, `request_id` in problems,
 * logs and the audit trail). A client's `X-Request-Id` never becomes it: the audit trail relies on the id
 * naming one request, and a client could otherwise give many requests the same one, or another client's.
 * A well-formed client value is kept apart, as the request log's `client_request_id`, for correlation.
 */
export const assignRequestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = crypto.randomUUID();
  c.set('requestId', id);
  const sent = c.req.header('X-Request-Id');
  if (sent && CLIENT_REQUEST_ID.test(sent)) c.set('clientRequestId', sent);
  c.header('X-Request-Id', id);
  await next();
});
