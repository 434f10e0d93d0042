import type { RouteHandler } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../../context.ts';
import type * as routes from './workflows.routes.ts';
import { toStateResponse, toTransitionsResponse } from './workflows.schemas.ts';
import * as service from './workflows.service.ts';

const db = (c: AppContext) => c.get('database').db;

export const listStates: RouteHandler<typeof routes.listStates, AppEnv> = async (c) =>
  c.json((await service.listStates(db(c), c.get('caller'), c.req.valid('param').id)).map(toStateResponse), 200);

export const createState: RouteHandler<typeof routes.createState, AppEnv> = async (c) =>
  c.json(
    toStateResponse(
      await service.createState(
        db(c),
        c.get('caller'),
        c.req.valid('param').id,
        c.req.valid('json'),
        c.get('config').limits.statesPerProject,
      ),
    ),
    201,
  );

export const updateState: RouteHandler<typeof routes.updateState, AppEnv> = async (c) => {
  const { id, state_id: stateId } = c.req.valid('param');
  return c.json(
    toStateResponse(await service.updateState(db(c), c.get('caller'), id, stateId, c.req.valid('json'))),
    200,
  );
};

export const deleteState: RouteHandler<typeof routes.deleteState, AppEnv> = async (c) => {
  const { id, state_id: stateId } = c.req.valid('param');
  await service.deleteState(db(c), c.get('caller'), id, stateId, c.req.valid('query').move_to);
  return c.body(null, 204);
};

export const listTransitions: RouteHandler<typeof routes.listTransitions, AppEnv> = async (c) =>
  c.json(toTransitionsResponse(await service.listTransitions(db(c), c.get('caller'), c.req.valid('param').id)), 200);

export const replaceTransitions: RouteHandler<typeof routes.replaceTransitions, AppEnv> = async (c) => {
  const pairs = c.req.valid('json').map((pair) => ({ fromStateId: pair.from_state_id, toStateId: pair.to_state_id }));
  return c.json(
    toTransitionsResponse(await service.replaceTransitions(db(c), c.get('caller'), c.req.valid('param').id, pairs)),
    200,
  );
};
