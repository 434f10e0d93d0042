import { swaggerUI } from '@hono/swagger-ui';
import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { AppError } from './lib/problem.ts';
import { createRouter } from './lib/create-router.ts';
import { deadline } from './middleware/deadline.ts';
import { provideContext } from './middleware/request-context.ts';
import { handleError, handleNotFound } from './middleware/error-handler.ts';
import { adminRouter } from './modules/admin/admin.index.ts';
import { authRouter } from './modules/auth/auth.index.ts';
import { healthRouter } from './modules/health/health.index.ts';
import { projectsRouter } from './modules/projects/projects.index.ts';

const MAX_BODY_BYTES = 1024 * 1024;

export function createApp() {
  const app = createRouter();

  app.use(requestId({ limitLength: 128 }));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        throw new AppError(405, `${c.req.method} is not allowed here`, { headers: { Allow: methods.join(', ') } });
      },
    }),
  );
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError(413, 'the request body is larger than 1 MiB');
      },
    }),
  );
  app.use(provideContext);
  app.use(deadline);

  app.route('/', healthRouter);
  app.route('/', authRouter);
  app.route('/', adminRouter);
  app.route('/', projectsRouter);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An access token from POST /auth/login',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'oauth2Password', {
    type: 'oauth2',
    description: 'Email (as username) and password; Swagger UI logs in through POST /auth/login',
    flows: { password: { tokenUrl: '/auth/login', scopes: {} } },
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'AegisFlow API',
      version: '0.1.0',
      description:
        'Workflow and project management at the edge. Errors are RFC 9457 `application/problem+json`; lists take `limit`/`offset` and return `X-Total-Count` and `Link` headers.',
    },
    tags: [
      { name: 'health', description: 'Liveness and readiness' },
      { name: 'auth', description: 'Signup, login and the current user' },
      { name: 'admin', description: 'User management (admin only)' },
      { name: 'projects', description: 'Projects owned by users' },
    ],
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json', persistAuthorization: true, title: 'AegisFlow API' }));

  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}

export type App = ReturnType<typeof createApp>;
