import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './invitations.handlers.ts';
import * as routes from './invitations.routes.ts';

export const invitationsRouter = createRouter()
  .openapi(routes.createInvitation, handlers.create)
  .openapi(routes.listInvitations, handlers.list)
  .openapi(routes.withdrawInvitation, handlers.withdraw)
  .openapi(routes.listMyInvitations, handlers.listMine)
  .openapi(routes.acceptInvitationByToken, handlers.acceptByToken)
  .openapi(routes.acceptInvitationById, handlers.acceptById);
