import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './workflows.handlers.ts';
import * as routes from './workflows.routes.ts';

export const workflowsRouter = createRouter()
  .openapi(routes.listStates, handlers.listStates)
  .openapi(routes.createState, handlers.createState)
  .openapi(routes.updateState, handlers.updateState)
  .openapi(routes.deleteState, handlers.deleteState)
  .openapi(routes.listTransitions, handlers.listTransitions)
  .openapi(routes.replaceTransitions, handlers.replaceTransitions);
