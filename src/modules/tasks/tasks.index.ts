import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './tasks.handlers.ts';
import * as routes from './tasks.routes.ts';

export const tasksRouter = createRouter()
  .openapi(routes.createTask, handlers.create)
  .openapi(routes.listProjectTasks, handlers.listInProject)
  .openapi(routes.listMyTasks, handlers.listMine)
  .openapi(routes.getTask, handlers.get)
  .openapi(routes.updateTask, handlers.update)
  .openapi(routes.deleteTask, handlers.remove)
  .openapi(routes.restoreTask, handlers.restore)
  .openapi(routes.transitionTask, handlers.transition)
  .openapi(routes.getTaskHistory, handlers.history);
