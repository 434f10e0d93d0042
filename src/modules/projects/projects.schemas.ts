import { z } from '@hono/zod-openapi';
import type { ProjectRow } from '../../db/schema.ts';
import { booleanQuery, PaginationQuery } from '../../lib/pagination.ts';
import { multiLineText, singleLineText, timestamp } from '../../lib/validation.ts';

export const ProjectSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    name: z.string().openapi({ example: 'Website relaunch' }),
    description: z.string().nullable().openapi({ example: 'Everything for the Q3 launch' }),
    is_active: z.boolean(),
    deleted_at: timestamp.nullable(),
    version: z.number().int().openapi({ description: 'Bumped on every change; the ETag is derived from it', example: 1 }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Project');
export type ProjectResponse = z.infer<typeof ProjectSchema>;

export function toProjectResponse(project: ProjectRow): ProjectResponse {
  return {
    id: project.id,
    owner_id: project.ownerId,
    name: project.name,
    description: project.description,
    is_active: project.isActive,
    deleted_at: project.deletedAt?.toISOString() ?? null,
    version: project.version,
    created_at: project.createdAt.toISOString(),
    updated_at: project.updatedAt.toISOString(),
  };
}

const name = singleLineText(1, 200).openapi({ example: 'Website relaunch' });
const description = multiLineText(5000).nullable().openapi({ description: '`null` clears it', example: 'Everything for the Q3 launch' });

// Unknown keys (id, owner_id, is_active, version, timestamps) are stripped: clients cannot set them.
export const CreateProjectBody = z.object({ name, description: description.optional() }).openapi('CreateProjectRequest');

export const UpdateProjectBody = z
  .object({ name: name.optional(), description: description.optional() })
  .refine((body) => body.name !== undefined || body.description !== undefined, {
    message: 'provide at least one of name, description',
  })
  .openapi('UpdateProjectRequest');

export const PROJECT_SORTS = ['created_at', '-created_at', 'name', '-name', 'updated_at', '-updated_at'] as const;

export const ListProjectsQuery = PaginationQuery.extend({
  q: singleLineText(0, 200).optional().openapi({ description: 'Case-insensitive substring of the name' }),
  sort: z.enum(PROJECT_SORTS, `must be one of ${PROJECT_SORTS.join(', ')}`).default('-created_at'),
  owner_id: z.uuid('must be a UUID').optional().openapi({ description: 'Admin only: projects of one owner' }),
  include_deleted: booleanQuery.optional().openapi({ description: 'Admin only: include soft-deleted projects' }),
});
