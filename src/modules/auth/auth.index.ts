import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './auth.handlers.ts';
import * as routes from './auth.routes.ts';

export const authRouter = createRouter()
  .openapi(routes.signup, handlers.signup)
  .openapi(routes.login, handlers.login)
  .openapi(routes.me, handlers.me)
  .openapi(routes.updateMe, handlers.updateMe)
  .openapi(routes.changePassword, handlers.changePassword);
