import { z } from '@hono/zod-openapi';
import type { ProjectMemberRow } from '../../db/schema.ts';
import { PaginationQuery, type ListOrder } from '../../lib/pagination.ts';
import { emailField, IdParams, timestamp } from '../../lib/validation.ts';
import { ProjectRoleSchema } from '../projects/projects.schemas.ts';

/** A membership as the API shows it: the member's user, their role (`owner` for the owner), when and by whom they were added. */
export const MemberSchema = z
  .object({
    user_id: z.uuid(),
    email: z.string().openapi({ example: 'grace@example.com' }),
    full_name: z.string().nullable().openapi({ example: 'Grace Hopper' }),
    role: ProjectRoleSchema,
    added_at: timestamp,
    added_by: z.uuid().nullable().openapi({ description: 'Who added the member; null if that account is gone' }),
  })
  .openapi('ProjectMember');
export type MemberResponse = z.infer<typeof MemberSchema>;

export type MemberView = ProjectMemberRow & { email: string; fullName: string | null };

export function toMemberResponse(member: MemberView): MemberResponse {
  return {
    user_id: member.userId,
    email: member.email,
    full_name: member.fullName,
    role: member.role,
    added_at: member.addedAt.toISOString(),
    added_by: member.addedBy,
  };
}

/** The roles a member can be given; `owner` changes hands only through a transfer. */
export const ASSIGNABLE_ROLES = ['viewer', 'editor', 'manager'] as const;
const assignableRole = z
  .enum(ASSIGNABLE_ROLES, 'must be viewer, editor or manager (the owner changes through POST /projects/{id}/transfer)')
  .openapi({ example: 'editor' });

export const AddMemberBody = z.object({ email: emailField, role: assignableRole }).openapi('AddMemberRequest');
export const ChangeMemberRoleBody = z.object({ role: assignableRole }).openapi('ChangeMemberRoleRequest');
export const TransferProjectBody = z
  .object({
    user_id: z.uuid('must be a UUID').openapi({ description: 'A current, active member who becomes the owner' }),
  })
  .openapi('TransferProjectRequest');

export const MemberParams = IdParams.extend({
  user_id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'user_id', in: 'path' }, example: '5d2f6a1e-3c4b-4e8f-9a0b-1c2d3e4f5a6b' }),
});

/** Members are listed oldest first (the owner of a new project first). */
export const MEMBER_LIST_ORDER: ListOrder = { name: 'members:added_at', key: 'timestamp' };
export const ListMembersQuery = PaginationQuery;
