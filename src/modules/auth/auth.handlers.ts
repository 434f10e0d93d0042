import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../context.ts';
import { currentUser, requestMeta } from '../../middleware/auth.ts';
import { validationFailed } from '../../lib/problem.ts';
import { sendAfterResponse } from '../mail/mail.delivery.ts';
import { toUserResponse } from '../users/users.schemas.ts';
import type * as routes from './auth.routes.ts';
import * as service from './auth.service.ts';
import { signUp } from './auth.service.ts';
import { logIn } from './login.ts';
import { toTokenResponse } from './auth.schemas.ts';

export const signup: RouteHandler<typeof routes.signup, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const user = await signUp(
    c.get('database').db,
    { email: body.email, password: body.password, fullName: body.full_name, invitationToken: body.invitation_token },
    requestMeta(c),
    c.get('config'),
    c.get('work'),
  );
  sendAfterResponse(c, user.mailIds);
  return c.json(toUserResponse(user), 201);
};

export const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
  const contentType = c.req.header('Content-Type')?.toLowerCase() ?? '';
  const isForm = contentType.startsWith('application/x-www-form-urlencoded');
  if (!isForm && !contentType.startsWith('application/json')) {
    throw validationFailed([{ path: 'body', message: 'a JSON or form body with email and password is required' }]);
  }
  const body = isForm ? c.req.valid('form') : c.req.valid('json');
  const email = 'username' in body ? body.username : body.email;
  const password = body.password;
  const tokens = await logIn(
    c.get('database').db,
    email,
    password,
    requestMeta(c),
    c.get('config'),
    c.get('work'),
    (ids) => sendAfterResponse(c, ids),
  );
  return c.json(toTokenResponse(tokens), 200);
};

export const updateMe: RouteHandler<typeof routes.updateMe, AppEnv> = async (c) =>
  c.json(
    toUserResponse(
      await service.updateMe(c.get('database').db, c.get('caller'), { fullName: c.req.valid('json').full_name }),
    ),
    200,
  );

export const changePassword: RouteHandler<typeof routes.changePassword, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  await service.changePassword(
    c.get('database').db,
    c.get('caller'),
    c.get('sessionId'),
    { current: body.current_password, next: body.new_password },
    c.get('config'),
    c.get('work'),
  );
  return c.body(null, 204);
};

export const me: RouteHandler<typeof routes.me, AppEnv> = async (c) =>
  c.json(toUserResponse(await currentUser(c)), 200);
