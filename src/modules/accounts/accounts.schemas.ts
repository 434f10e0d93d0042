import { z } from '@hono/zod-openapi';
import { emailField } from '../../lib/validation.ts';
import { loginPassword, newPassword } from '../auth/auth.schemas.ts';

/*
 * A mailed token is taken as any string of reasonable length: a truncated, padded or made-up one simply
 * finds nothing, and gets the same 400 as an unknown, used or expired one.
 */
const mailedToken = z
  .string()
  .min(1, 'must not be empty')
  .max(512, 'is not a token this API mailed')
  .openapi({ description: 'The token from the message (the `token` in its link)', example: 'nW1xq...43 characters' });

export const ForgotPasswordBody = z.object({ email: emailField }).openapi('ForgotPasswordRequest');

export const ResetPasswordBody = z
  .object({ token: mailedToken, new_password: newPassword })
  .openapi('ResetPasswordRequest');

export const VerifyEmailBody = z.object({ token: mailedToken }).openapi('VerifyEmailRequest');

export const ChangeEmailBody = z
  .object({ new_email: emailField, current_password: loginPassword })
  .openapi('ChangeEmailRequest');

/** The answer of a request whose outcome arrives by mail. */
export const AcceptedSchema = z
  .object({
    detail: z.string().openapi({ example: 'If an active account uses this address, a message is on its way.' }),
  })
  .openapi('Accepted');
