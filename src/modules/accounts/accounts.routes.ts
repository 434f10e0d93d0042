import { createRoute } from '@hono/zod-openapi';
import { errorResponses, jsonBody, jsonResponse, publicSecurity } from '../../lib/openapi.ts';
import { signedIn } from '../../middleware/auth.ts';
import { limitPerIp } from '../../middleware/rate-limit.ts';
import { UserSchema } from '../users/users.schemas.ts';
import {
  AcceptedSchema,
  ChangeEmailBody,
  ForgotPasswordBody,
  ResetPasswordBody,
  VerifyEmailBody,
} from './accounts.schemas.ts';

const accepted = (description: string) => ({ 202: jsonResponse(AcceptedSchema, description) });

export const forgotPassword = createRoute({
  method: 'post',
  path: '/auth/password/forgot',
  operationId: 'forgotPassword',
  security: publicSecurity,
  tags: ['auth'],
  summary: 'Mail a password reset link to an active account’s address',
  description:
    'Always 202 with the same body, whether or not an active account uses the address: the answer says nothing about who has an account. The link works once, for `PASSWORD_RESET_MINUTES` (30). Requests are limited per client address (429) and, silently, per email address.',
  middleware: [limitPerIp('forgot')],
  request: { body: jsonBody(ForgotPasswordBody, 'The address to send the link to') },
  responses: {
    ...accepted('Accepted; a message is on its way if an active account uses the address'),
    ...errorResponses(429),
  },
});

export const resetPassword = createRoute({
  method: 'post',
  path: '/auth/password/reset',
  operationId: 'resetPassword',
  security: publicSecurity,
  tags: ['auth'],
  summary: 'Choose a new password with a mailed reset token',
  description:
    'Every session and access token of the account ends, earlier reset tokens too, and a notice is mailed. An unknown, used or expired token is a 400 `reset_token_invalid`, the same for all three.',
  middleware: [limitPerIp('reset')],
  request: { body: jsonBody(ResetPasswordBody, 'The token from the message and the new password') },
  responses: { 204: { description: 'The password is changed' }, ...errorResponses(429) },
});

export const verifyEmail = createRoute({
  method: 'post',
  path: '/auth/email/verify',
  operationId: 'verifyEmail',
  security: publicSecurity,
  tags: ['auth'],
  summary: 'Confirm an address with a mailed token (signup, or a change of address)',
  description:
    "A signup's token marks the account's address verified; an email change's token moves the account to the new address (409 `email_taken` if another account took it meanwhile) and tells the old one. An unknown, used or expired token is a 400 `verification_token_invalid`.",
  middleware: [limitPerIp('verify')],
  request: { body: jsonBody(VerifyEmailBody, 'The token from the message') },
  responses: { 200: jsonResponse(UserSchema, 'The account, verified'), ...errorResponses(409, 429) },
});

export const resendVerification = createRoute({
  ...signedIn('auth', 'account:write'),
  method: 'post',
  path: '/auth/email/verify/resend',
  operationId: 'resendVerificationEmail',
  summary: "Mail a new verification link to the caller's address",
  description:
    'At most 3 verification messages an hour (429 with `Retry-After`); 409 when the address is already verified.',
  responses: { ...accepted('Accepted; the message is on its way'), ...errorResponses(401, 403, 409, 429) },
});

export const changeEmail = createRoute({
  ...signedIn('auth', 'account:write', limitPerIp('password')),
  method: 'post',
  path: '/auth/me/email',
  operationId: 'changeEmail',
  summary: "Move the caller's account to another address, once that address is confirmed",
  description:
    'Mails a confirmation link to the new address and a notice to the current one; the address changes when the link is used (POST /auth/email/verify). The answer is the same whether or not another account uses the new address. A wrong current password is a 403 and counts as a failed password attempt.',
  request: { body: jsonBody(ChangeEmailBody, 'The new address and the current password') },
  responses: { ...accepted('Accepted; the confirmation is on its way'), ...errorResponses(401, 403, 429) },
});
