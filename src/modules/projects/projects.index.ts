import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './projects.handlers.ts';
import * as routes from './projects.routes.ts';

export const projectsRouter = createRouter()
  .openapi(routes.createProject, handlers.create)
  .openapi(routes.listProjects, handlers.list)
  .openapi(routes.getProject, handlers.get)
  .openapi(routes.replaceProject, handlers.update)
  .openapi(routes.patchProject, handlers.update)
  .openapi(routes.deleteProject, handlers.remove)
  .openapi(routes.restoreProject, handlers.restore);
