import { z } from '@hono/zod-openapi';
import { booleanQuery, PaginationQuery } from '../../lib/pagination.ts';
import { singleLineText } from '../../lib/validation.ts';
import { RoleSchema } from '../users/users.schemas.ts';

export const ListUsersQuery = PaginationQuery.extend({
  q: singleLineText(0, 200).optional().openapi({ description: 'Case-insensitive substring of email or full name' }),
  role: RoleSchema.optional(),
  is_active: booleanQuery.optional(),
});

export const ChangeRoleBody = z.object({ role: RoleSchema }).openapi('ChangeRoleRequest');
export const ChangeStatusBody = z
  .object({ is_active: z.boolean('must be true or false') })
  .openapi('ChangeStatusRequest');
