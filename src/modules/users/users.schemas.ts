import { z } from '@hono/zod-openapi';
import type { UserRow } from '../../db/schema.ts';
import { timestamp } from '../../lib/validation.ts';

export const RoleSchema = z.enum(['user', 'admin']).openapi('Role');

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string().openapi({ example: 'ada@example.com' }),
    full_name: z.string().nullable().openapi({ example: 'Ada Lovelace' }),
    role: RoleSchema,
    is_active: z.boolean(),
    email_verified_at: timestamp.nullable().openapi({ description: 'When the address was confirmed; null until then' }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('User');
export type UserResponse = z.infer<typeof UserSchema>;

/** The public view of a user: never the password hash. */
export function toUserResponse(user: UserRow): UserResponse {
  return {
    id: user.id,
    email: user.email,
    full_name: user.fullName,
    role: user.role as UserResponse['role'],
    is_active: user.isActive,
    email_verified_at: user.emailVerifiedAt?.toISOString() ?? null,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}
