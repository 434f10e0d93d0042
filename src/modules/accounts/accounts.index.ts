import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './accounts.handlers.ts';
import * as routes from './accounts.routes.ts';

export const accountsRouter = createRouter()
  .openapi(routes.forgotPassword, handlers.forgotPassword)
  .openapi(routes.resetPassword, handlers.resetPassword)
  .openapi(routes.verifyEmail, handlers.verifyEmail)
  .openapi(routes.resendVerification, handlers.resendVerification)
  .openapi(routes.changeEmail, handlers.changeEmail);
