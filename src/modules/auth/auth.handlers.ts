import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../context.ts';
import { currentUser } from '../../middleware/auth.ts';
import { validationFailed } from '../../lib/problem.ts';
import { toUserResponse } from '../users/users.schemas.ts';
import type * as routes from './auth.routes.ts';
import { logIn, signUp } from './auth.service.ts';

export const signup: RouteHandler<typeof routes.signup, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const user = await signUp(
    c.get('database').db,
    { email: body.email, password: body.password, fullName: body.full_name },
    c.get('config'),
  );
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
  const token = await logIn(c.get('database').db, email, password, c.get('config'));
  c.header('Cache-Control', 'no-store');
  return c.json({ access_token: token.accessToken, token_type: 'bearer' as const, expires_in: token.expiresIn }, 200);
};

export const me: RouteHandler<typeof routes.me, AppEnv> = async (c) => c.json(toUserResponse(await currentUser(c)), 200);
