import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './sessions.handlers.ts';
import * as routes from './sessions.routes.ts';

export const sessionsRouter = createRouter()
  .openapi(routes.refresh, handlers.refresh)
  .openapi(routes.logout, handlers.logout)
  .openapi(routes.logoutAll, handlers.logoutAll)
  .openapi(routes.listSessions, handlers.list)
  .openapi(routes.revokeSession, handlers.revoke);
