import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './admin.handlers.ts';
import * as routes from './admin.routes.ts';

export const adminRouter = createRouter()
  .openapi(routes.listUsers, handlers.list)
  .openapi(routes.getUser, handlers.get)
  .openapi(routes.changeRole, handlers.changeRole)
  .openapi(routes.changeStatus, handlers.changeStatus);
