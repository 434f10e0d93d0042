import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './api-keys.handlers.ts';
import * as routes from './api-keys.routes.ts';

export const apiKeysRouter = createRouter()
  .openapi(routes.createApiKey, handlers.create)
  .openapi(routes.listApiKeys, handlers.list)
  .openapi(routes.revokeApiKey, handlers.revoke)
  .openapi(routes.listUserApiKeys, handlers.listOfUser)
  .openapi(routes.revokeUserApiKey, handlers.revokeOfUser)
  .openapi(routes.getCredential, handlers.credential);
