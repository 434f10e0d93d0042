import { createRoute } from '@hono/zod-openapi';
import { requireAuth } from '../../middleware/auth.ts';
import { bearerSecurity, errorResponses, jsonBody, jsonResponse, publicSecurity } from '../../lib/openapi.ts';
import { UserSchema } from '../users/users.schemas.ts';
import { LoginFormSchema, LoginJsonSchema, SignupBodySchema, TokenSchema } from './auth.schemas.ts';

export const signup = createRoute({
  method: 'post',
  path: '/auth/signup',
  operationId: 'signUp',
  security: publicSecurity,
  tags: ['auth'],
  summary: 'Create an account (role `user`)',
  request: { body: jsonBody(SignupBodySchema, 'The new account') },
  responses: {
    201: jsonResponse(UserSchema, 'The created user'),
    ...errorResponses(409),
  },
});

export const login = createRoute({
  method: 'post',
  path: '/auth/login',
  operationId: 'logIn',
  security: publicSecurity,
  tags: ['auth'],
  summary: 'Exchange email and password for an access token',
  description: 'Accepts JSON `{email, password}` or the OAuth2 password form (`username`, `password`).',
  request: {
    body: {
      // Declared optional only because zod-openapi would otherwise run both validators on every request;
      // the handler refuses a request that carries neither media type.
      required: false,
      content: {
        'application/json': { schema: LoginJsonSchema },
        'application/x-www-form-urlencoded': { schema: LoginFormSchema },
      },
    },
  },
  responses: {
    200: jsonResponse(TokenSchema, 'A bearer access token'),
    ...errorResponses(401, 403),
  },
});

export const me = createRoute({
  method: 'get',
  path: '/auth/me',
  operationId: 'getCurrentUser',
  tags: ['auth'],
  summary: 'The current user',
  security: bearerSecurity,
  middleware: [requireAuth],
  responses: {
    200: jsonResponse(UserSchema, 'The authenticated user'),
    ...errorResponses(401, 403),
  },
});
