import { isNotNull, sql } from 'drizzle-orm';
import { guard, GuardedWrite } from '../../db/guards.ts';
import { versionGuard } from '../../db/if-match.ts';
import { projects } from '../../db/schema.ts';
import { conflict } from '../../lib/problem.ts';
import type { ProjectAction } from './access.ts';
import { callerGuards } from '../../db/users.ts';
import { accessGuards } from './standing.ts';

/*
 * The rules of every write to a project, each declared once (db/guards.ts), in the order a refusal names
 * them. Their facts CTE joins the project (`projects`, locked), the caller's `users` row and `caller_membership`.
 */

/** What a project's refusals read besides the guards' results: its version (ETag). */
export interface ProjectFacts {
  version: number | null;
}

/** Creating a project: the caller's own rules are all there is. */
export const CREATE = new GuardedWrite(...callerGuards());

const changing = (action: ProjectAction, state: 'active' | 'deleted') =>
  new GuardedWrite<ProjectFacts>(
    ...callerGuards<ProjectFacts>(),
    // A deleted project is gone for every change but restoring it, for admins too.
    ...accessGuards<ProjectFacts>(
      action,
      state === 'active' ? sql`(${projects.id} is not null and ${projects.deletedAt} is null)` : isNotNull(projects.id),
      'project',
    ),
    ...(state === 'deleted'
      ? [
          guard<ProjectFacts>('project_deleted', isNotNull(projects.deletedAt), () =>
            conflict('not_deleted', 'the project is not deleted'),
          ),
        ]
      : []),
    versionGuard<ProjectFacts>(projects.version, 'project'),
  );

export const UPDATE = changing('updateProject', 'active');
export const DELETE = changing('deleteProject', 'active');
export const RESTORE = changing('restoreProject', 'deleted');
