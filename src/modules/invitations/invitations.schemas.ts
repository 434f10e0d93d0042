import { z } from '@hono/zod-openapi';
import type { InvitationRow } from '../../db/account-schema.ts';
import { PaginationQuery, type ListOrder } from '../../lib/pagination.ts';
import { emailField, IdParams, timestamp } from '../../lib/validation.ts';
import { ASSIGNABLE_ROLES } from '../members/members.schemas.ts';

/** An invitation as the API shows it: never its token, which only the message carries. */
export const InvitationSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    email: z.string().openapi({ example: 'grace@example.com', description: 'The invited address, lower-case' }),
    role: z.enum(ASSIGNABLE_ROLES),
    invited_by: z.uuid().nullable().openapi({ description: 'Who invited; null if that account is gone' }),
    created_at: timestamp,
    expires_at: timestamp,
  })
  .openapi('Invitation');

/** One of the caller's pending invitations, with the project it is to. */
export const MyInvitationSchema = InvitationSchema.extend({
  project_name: z.string().openapi({ example: 'Launch' }),
}).openapi('MyInvitation');

export type InvitationView = InvitationRow & { projectName?: string };

export function toInvitationResponse(invitation: InvitationView) {
  return {
    id: invitation.id,
    project_id: invitation.projectId,
    email: invitation.email,
    role: invitation.role,
    invited_by: invitation.invitedBy,
    created_at: invitation.createdAt.toISOString(),
    expires_at: invitation.expiresAt.toISOString(),
  };
}

export const toMyInvitationResponse = (invitation: InvitationView & { projectName: string }) => ({
  ...toInvitationResponse(invitation),
  project_name: invitation.projectName,
});

const role = z
  .enum(ASSIGNABLE_ROLES, 'must be viewer, editor or manager (the owner changes through POST /projects/{id}/transfer)')
  .openapi({ example: 'editor' });

export const InviteBody = z.object({ email: emailField, role }).openapi('InviteRequest');

export const AcceptInvitationBody = z
  .object({
    token: z
      .string()
      .min(1, 'must not be empty')
      .max(512, 'is not a token this API mailed')
      .openapi({ description: 'The token from the invitation message (the `token` in its link)' }),
  })
  .openapi('AcceptInvitationRequest');

export const InvitationParams = IdParams.extend({
  invitation_id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'invitation_id', in: 'path' }, example: '9c1e2f3a-4b5c-4d6e-8f70-1a2b3c4d5e6f' }),
});

/** Invitations are listed newest first. */
export const INVITATION_LIST_ORDER: ListOrder = { name: 'invitations:created_at', key: 'timestamp' };
export const MY_INVITATION_LIST_ORDER: ListOrder = { name: 'my-invitations:created_at', key: 'timestamp' };
export const ListInvitationsQuery = PaginationQuery;
