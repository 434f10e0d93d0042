import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { DEVELOPMENT_SERVER_URL, type AppConfig } from './config.ts';
import { AppError } from './lib/problem.ts';
import { completeDocument } from './lib/openapi.ts';
import { createRouter } from './lib/create-router.ts';
import { corsPolicy } from './middleware/cors.ts';
import { deadline } from './middleware/deadline.ts';
import { provideContext } from './middleware/request-context.ts';
import { acceptDeclaredMediaTypes } from './middleware/media-type.ts';
import { assignRequestId } from './middleware/request-id.ts';
import { requestLog } from './middleware/request-log.ts';
import { handleError, handleNotFound } from './middleware/error-handler.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { accountsRouter } from './modules/accounts/accounts.index.ts';
import { adminRouter } from './modules/admin/admin.index.ts';
import { apiKeysRouter } from './modules/api-keys/api-keys.index.ts';
import { auditRouter } from './modules/audit/audit.index.ts';
import { authRouter } from './modules/auth/auth.index.ts';
import { docsRouter } from './modules/docs/docs.index.ts';
import { healthRouter } from './modules/health/health.index.ts';
import { invitationsRouter } from './modules/invitations/invitations.index.ts';
import { membersRouter } from './modules/members/members.index.ts';
import { projectsRouter } from './modules/projects/projects.index.ts';
import { sessionsRouter } from './modules/sessions/sessions.index.ts';
import { tasksRouter } from './modules/tasks/tasks.index.ts';
import { workflowsRouter } from './modules/workflows/workflows.index.ts';

const MAX_BODY_BYTES = 1024 * 1024;

/** The parts of the OpenAPI document that are not routes: who, where, under what licence. */
function documentInfo(config: AppConfig) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'AegisFlow API',
      version: '0.1.0',
      description:
        'Workflow and project management at the edge. Errors are RFC 9457 `application/problem+json`; lists take `limit` and `cursor` (or `offset`) and return `X-Total-Count` and `Link` headers; every problem carries a stable `code`.',
      contact: { name: 'AegisFlow maintainers' },
      license: { name: 'Proprietary', identifier: 'LicenseRef-AegisFlow-Proprietary' },
    },
    servers: [
      ...(config.publicUrl ? [{ url: config.publicUrl, description: 'Production' }] : []),
      { url: DEVELOPMENT_SERVER_URL, description: 'Local development (npm run dev)' },
    ],
    tags: [
      { name: 'health', description: 'Liveness and readiness' },
      { name: 'auth', description: 'Signup, login and the current user' },
      { name: 'sessions', description: "Refresh tokens, logout and the caller's sessions" },
      { name: 'api-keys', description: 'Credentials for machines: scoped, expiring, revocable' },
      { name: 'admin', description: 'User management and the audit trail (admin only)' },
      { name: 'projects', description: 'Projects: their owner and members see them, as their role allows' },
      { name: 'members', description: 'Who belongs to a project, and as what' },
      { name: 'invitations', description: 'Inviting an email address to a project, and accepting' },
      { name: 'workflows', description: "A project's states and the moves allowed between them" },
      { name: 'tasks', description: "Work moving through a project's states" },
    ],
  };
}

export function createApp() {
  const app = createRouter();

  app.use(assignRequestId);
  app.use(requestLog);
  app.use(securityHeaders);
  app.use(corsPolicy);
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        throw new AppError('method_not_allowed', `${c.req.method} is not allowed here`, {
          headers: { Allow: methods.join(', ') },
        });
      },
    }),
  );
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError('content_too_large', 'the request body is larger than 1 MiB');
      },
    }),
  );
  app.use(acceptDeclaredMediaTypes);
  app.use(provideContext);
  app.use(deadline);

  app.route('/', healthRouter);
  app.route('/', authRouter);
  app.route('/', accountsRouter);
  app.route('/', sessionsRouter);
  app.route('/', apiKeysRouter);
  app.route('/', adminRouter);
  app.route('/', auditRouter);
  app.route('/', projectsRouter);
  app.route('/', membersRouter);
  app.route('/', invitationsRouter);
  app.route('/', workflowsRouter);
  app.route('/', tasksRouter);
  app.route('/', docsRouter);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An access token from POST /auth/login',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'afk_...',
    description:
      'An API key from POST /auth/api-keys, sent as `Authorization: Bearer afk_...`: the routes that name an `x-required-scope` take one holding that scope',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'oauth2Password', {
    type: 'oauth2',
    description: 'Email (as username) and password; Swagger UI logs in through POST /auth/login',
    flows: { password: { tokenUrl: '/auth/login', scopes: {} } },
  });

  // Generated once per configuration: the routes do not change while the isolate lives.
  const documents = new WeakMap<AppConfig, unknown>();
  app.get('/openapi.json', (c) => {
    const config = c.get('config');
    let document = documents.get(config);
    if (!document) documents.set(config, (document = completeDocument(app.getOpenAPI31Document(documentInfo(config)))));
    c.header('Cache-Control', 'no-cache');
    return c.json(document);
  });

  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}

export type App = ReturnType<typeof createApp>;
