import { createRouter } from '../../lib/create-router.ts';
import * as handlers from './audit.handlers.ts';
import * as routes from './audit.routes.ts';

export const auditRouter = createRouter()
  .openapi(routes.listAuditEvents, handlers.listAudit)
  .openapi(routes.listProjectActivity, handlers.listActivity);
