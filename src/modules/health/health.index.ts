import { createRouter } from '../../lib/create-router.ts';
import * as routes from './health.routes.ts';
import { checkDatabase } from './health.service.ts';

export const healthRouter = createRouter()
  .openapi(routes.health, (c) => c.json({ status: 'ok' as const }, 200))
  .openapi(routes.ready, async (c) => {
    await checkDatabase(c.get('database').db);
    return c.json({ status: 'ready' as const, database: 'ok' as const }, 200);
  });
