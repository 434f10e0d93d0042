import type { RouteHandler } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../../context.ts';
import { requestMeta } from '../../middleware/auth.ts';
import { sendAfterResponse } from '../mail/mail.delivery.ts';
import { toUserResponse } from '../users/users.schemas.ts';
import type * as routes from './accounts.routes.ts';
import * as service from './accounts.service.ts';

const db = (c: AppContext) => c.get('database').db;
const accepted = (detail: string) => ({ detail });

export const forgotPassword: RouteHandler<typeof routes.forgotPassword, AppEnv> = async (c) => {
  const { mailIds } = await service.requestPasswordReset(
    db(c),
    c.req.valid('json').email,
    requestMeta(c),
    c.get('config'),
  );
  sendAfterResponse(c, mailIds);
  return c.json(accepted('If an active account uses this address, a message with a reset link is on its way.'), 202);
};

export const resetPassword: RouteHandler<typeof routes.resetPassword, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const { mailIds } = await service.resetPassword(
    db(c),
    { token: body.token, newPassword: body.new_password },
    requestMeta(c),
    c.get('config'),
    c.get('work'),
  );
  sendAfterResponse(c, mailIds);
  return c.body(null, 204);
};

export const verifyEmail: RouteHandler<typeof routes.verifyEmail, AppEnv> = async (c) => {
  const { user, mailIds } = await service.verifyEmail(
    db(c),
    c.req.valid('json').token,
    requestMeta(c),
    c.get('config'),
  );
  sendAfterResponse(c, mailIds);
  return c.json(toUserResponse(user), 200);
};

export const resendVerification: RouteHandler<typeof routes.resendVerification, AppEnv> = async (c) => {
  const { mailIds } = await service.resendVerification(db(c), c.get('caller'), c.get('config'));
  sendAfterResponse(c, mailIds);
  return c.json(accepted('A new verification link is on its way.'), 202);
};

export const changeEmail: RouteHandler<typeof routes.changeEmail, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const { mailIds } = await service.requestEmailChange(
    db(c),
    c.get('caller'),
    { newEmail: body.new_email, currentPassword: body.current_password },
    c.get('config'),
    c.get('work'),
  );
  sendAfterResponse(c, mailIds);
  return c.json(accepted('A confirmation link is on its way to the new address.'), 202);
};
