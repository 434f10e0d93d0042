import type { RouteHandler } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../../context.ts';
import { etagFor, isNotModified, parseIfMatch, parseIfNoneMatch } from '../../lib/etag.ts';
import { readPageRequest, setPaginationHeaders } from '../../lib/pagination.ts';
import { listProjects, projectListOrder } from './projects.list.ts';
import type * as routes from './projects.routes.ts';
import { toProjectResponse } from './projects.schemas.ts';
import * as service from './projects.service.ts';
import type { ProjectView } from './projects.service.ts';

const db = (c: AppContext) => c.get('database').db;

function respondWithProject<S extends 200 | 201>(c: AppContext, project: ProjectView, status: S) {
  c.header('ETag', etagFor(project.version));
  return c.json(toProjectResponse(project), status);
}

export const create: RouteHandler<typeof routes.createProject, AppEnv> = async (c) =>
  respondWithProject(c, await service.createProject(db(c), c.get('caller'), c.req.valid('json')), 201);

export const list: RouteHandler<typeof routes.listProjects, AppEnv> = async (c) => {
  const query = c.req.valid('query');
  const page = readPageRequest(c, query, projectListOrder(query.sort));
  const projects = await listProjects(db(c), c.get('caller'), {
    q: query.q,
    sort: query.sort,
    role: query.role,
    ownerId: query.owner_id,
    includeDeleted: query.include_deleted,
    page,
  });
  setPaginationHeaders(c, projects, page);
  return c.json(projects.items.map(toProjectResponse), 200);
};

export const get: RouteHandler<typeof routes.getProject, AppEnv> = async (c) => {
  const project = await service.getProject(db(c), c.get('caller'), c.req.valid('param').id);
  if (isNotModified(parseIfNoneMatch(c.req.valid('header')['if-none-match']), project.version)) {
    c.header('ETag', etagFor(project.version));
    return c.body(null, 304);
  }
  return respondWithProject(c, project, 200);
};

export const update: RouteHandler<typeof routes.patchProject | typeof routes.replaceProject, AppEnv> = async (c) => {
  const project = await service.updateProject(
    db(c),
    c.get('caller'),
    c.req.valid('param').id,
    c.req.valid('json'),
    parseIfMatch(c.req.valid('header')['if-match']),
  );
  return respondWithProject(c, project, 200);
};

/** Soft delete and restore: the same request shape, a different state change. */
const changeState =
  (
    action: typeof service.softDeleteProject,
  ): RouteHandler<typeof routes.deleteProject | typeof routes.restoreProject, AppEnv> =>
  async (c) => {
    const project = await action(
      db(c),
      c.get('caller'),
      c.req.valid('param').id,
      parseIfMatch(c.req.valid('header')['if-match']),
    );
    return respondWithProject(c, project, 200);
  };

export const remove = changeState(service.softDeleteProject);
export const restore = changeState(service.restoreProject);
