import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './members.handlers.ts';
import * as routes from './members.routes.ts';

export const membersRouter = createRouter()
  .openapi(routes.listMembers, handlers.list)
  .openapi(routes.addMember, handlers.add)
  .openapi(routes.changeMemberRole, handlers.changeRole)
  .openapi(routes.removeMember, handlers.remove)
  .openapi(routes.transferProject, handlers.transfer);
