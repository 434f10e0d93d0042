import { z } from '@hono/zod-openapi';
import { PROJECT_ROLES } from '../../db/schema.ts';
import { booleanQuery, PaginationQuery } from '../../lib/pagination.ts';
import type { ProjectView } from './projects.service.ts';
import { atLeastOneOf, multiLineText, singleLineText, timestamp } from '../../lib/validation.ts';

export const ProjectRoleSchema = z
  .enum(PROJECT_ROLES)
  .openapi('ProjectRole', { description: 'A role in a project, least to most: viewer, editor, manager, owner' });

const MyRoleSchema = z.enum([...PROJECT_ROLES, 'admin']).openapi({
  description: "The caller's role in the project; `admin` where only the admin override gives access",
  example: 'owner',
});

export const ProjectSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    name: z.string().openapi({ example: 'Website relaunch' }),
    description: z.string().nullable().openapi({ example: 'Everything for the Q3 launch' }),
    is_active: z.boolean(),
    deleted_at: timestamp.nullable(),
    version: z
      .number()
      .int()
      .openapi({ description: 'Bumped on every change; the ETag is derived from it', example: 1 }),
    my_role: MyRoleSchema,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Project');
export type ProjectResponse = z.infer<typeof ProjectSchema>;

export function toProjectResponse(project: ProjectView): ProjectResponse {
  return {
    id: project.id,
    owner_id: project.ownerId,
    name: project.name,
    description: project.description,
    is_active: project.isActive,
    deleted_at: project.deletedAt?.toISOString() ?? null,
    version: project.version,
    my_role: project.myRole,
    created_at: project.createdAt.toISOString(),
    updated_at: project.updatedAt.toISOString(),
  };
}

const name = singleLineText(1, 200).openapi({ example: 'Website relaunch' });
const description = multiLineText(5000)
  .nullable()
  .openapi({ description: '`null` clears it', example: 'Everything for the Q3 launch' });

// Unknown keys (id, owner_id, is_active, version, timestamps) are stripped: clients cannot set them.
export const CreateProjectBody = z
  .object({ name, description: description.optional() })
  .openapi('CreateProjectRequest');

export const UpdateProjectBody = z
  .object({ name: name.optional(), description: description.optional() })
  .refine((body) => body.name !== undefined || body.description !== undefined, {
    message: 'provide at least one of name, description',
  })
  .openapi('UpdateProjectRequest', { anyOf: atLeastOneOf(['name', 'description']) });

export const PROJECT_SORTS = ['created_at', '-created_at', 'name', '-name', 'updated_at', '-updated_at'] as const;
export type ProjectSort = (typeof PROJECT_SORTS)[number];

export const ListProjectsQuery = PaginationQuery.extend({
  q: singleLineText(0, 200).optional().openapi({ description: 'Case-insensitive substring of the name' }),
  sort: z
    .enum(PROJECT_SORTS, `must be one of ${PROJECT_SORTS.join(', ')}`)
    .default('-created_at')
    .openapi({
      description: 'Created_at orders page by index at any depth; name and updated_at read every matching project',
    }),
  role: z
    .enum(PROJECT_ROLES, `must be one of ${PROJECT_ROLES.join(', ')}`)
    .optional()
    .openapi({ description: 'Only projects where the caller has this role (`my_role`)' }),
  owner_id: z.uuid('must be a UUID').optional().openapi({ description: 'Admin only: projects of one owner' }),
  include_deleted: booleanQuery.optional().openapi({ description: 'Admin only: include soft-deleted projects' }),
});
