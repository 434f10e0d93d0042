import { z } from '@hono/zod-openapi';
import { emailField, singleLineText } from '../../lib/validation.ts';

// Unknown keys (id, role, is_active, ...) are stripped, so a client can never set them.
/** The password policy for new passwords (signup, password change). */
export const newPassword = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters')
  .openapi({ example: 'correct horse battery staple', format: 'password' });

export const SignupBodySchema = z
  .object({
    email: emailField,
    password: newPassword,
    full_name: singleLineText(1, 200).nullable().optional().openapi({ example: 'Ada Lovelace' }),
    invitation_token: z
      .string()
      .min(1, 'must not be empty')
      .max(512, 'is not a token this API mailed')
      .optional()
      .openapi({
        description:
          'The token of an invitation to this address (from its message): the account starts verified, and no verification message is sent',
      }),
  })
  .openapi('SignupRequest');

// Login does not re-apply the signup length rules: accounts imported from the original system may
// predate them. The upper bound only caps the work a request can cause.
export const loginPassword = z.string().min(1, 'must not be empty').max(1024).openapi({ format: 'password' });

export const LoginJsonSchema = z.object({ email: emailField, password: loginPassword }).openapi('LoginRequest');

/** The OAuth2 password grant form Swagger UI's Authorize dialog sends; `username` holds the email. */
export const LoginFormSchema = z
  .object({ username: emailField, password: loginPassword, grant_type: z.literal('password').optional() })
  .openapi('LoginForm');

export const TokenSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds until the access token expires', example: 900 }),
    refresh_token: z
      .string()
      .openapi({ description: 'Opaque; exchange it at POST /auth/refresh for the next pair. Each works once.' }),
    refresh_expires_in: z
      .number()
      .int()
      .openapi({ description: 'Seconds until the refresh token expires', example: 2592000 }),
  })
  .openapi('Token');

export const toTokenResponse = (tokens: {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}) => ({
  access_token: tokens.accessToken,
  token_type: 'bearer' as const,
  expires_in: tokens.expiresIn,
  refresh_token: tokens.refreshToken,
  refresh_expires_in: tokens.refreshExpiresIn,
});

export const RefreshTokenBody = z
  .object({ refresh_token: z.string().min(1, 'must not be empty').max(512, 'is not a refresh token') })
  .openapi('RefreshTokenRequest');

export const UpdateMeBody = z
  .object({ full_name: singleLineText(1, 200).nullable().openapi({ example: 'Ada Lovelace' }) })
  .openapi('UpdateMeRequest');

export const ChangePasswordBody = z
  .object({ current_password: loginPassword, new_password: newPassword })
  .openapi('ChangePasswordRequest');
