import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../context.ts';
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
  const isForm = c.req.header('Content-Type')?.toLowerCase().startsWith('application/x-www-form-urlencoded');
  const body = isForm ? c.req.valid('form') : c.req.valid('json');
  const email = 'username' in body ? body.username : body.email;
  const password = body.password;
  const token = await logIn(c.get('database').db, email, password, c.get('config'));
  c.header('Cache-Control', 'no-store');
  return c.json({ access_token: token.accessToken, token_type: 'bearer' as const, expires_in: token.expiresIn }, 200);
};

export const me: RouteHandler<typeof routes.me, AppEnv> = (c) => c.json(toUserResponse(c.get('currentUser')), 200);
