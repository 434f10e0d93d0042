import { createRoute } from '@hono/zod-openapi';
import { signedIn } from '../../middleware/auth.ts';
import { errorResponses, jsonBody, jsonResponse, publicSecurity } from '../../lib/openapi.ts';
import { UserSchema } from '../users/users.schemas.ts';
import { limitPerIp } from '../../middleware/rate-limit.ts';
import {
  ChangePasswordBody,
  LoginFormSchema,
  LoginJsonSchema,
  SignupBodySchema,
  TokenSchema,
  UpdateMeBody,
} from './auth.schemas.ts';

export const signup = createRoute({
  method: 'post',
  path: '/auth/signup',
  operationId: 'signUp',
  security: publicSecurity,
  tags: ['auth'],
  summary: 'Create an account (role `user`)',
  description:
    'A verification link is mailed to the address (valid `EMAIL_VERIFICATION_HOURS`, 24), unless the signup presents the token of an invitation to that address, which verifies it (400 `invitation_invalid` for an unknown, accepted, withdrawn or expired one; 403 `invitation_mismatch` when it was sent to another address).',
  middleware: [limitPerIp('signup')],
  request: { body: jsonBody(SignupBodySchema, 'The new account') },
  responses: {
    201: jsonResponse(UserSchema, 'The created user'),
    ...errorResponses(403, 409, 429),
  },
});

export const login = createRoute({
  method: 'post',
  path: '/auth/login',
  operationId: 'logIn',
  security: publicSecurity,
  tags: ['auth'],
  summary: 'Exchange email and password for an access token and a refresh token (a new session)',
  description:
    'Accepts JSON `{email, password}` or the OAuth2 password form (`username`, `password`). Too many requests from one address, or too many failed logins for one email, are a 429 with `Retry-After`.',
  middleware: [limitPerIp('login')],
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
    200: jsonResponse(TokenSchema, 'A bearer access token and a refresh token'),
    ...errorResponses(401, 403, 429),
  },
});

export const me = createRoute({
  method: 'get',
  path: '/auth/me',
  operationId: 'getCurrentUser',
  ...signedIn('auth', null),
  summary: 'The current user',
  responses: {
    200: jsonResponse(UserSchema, 'The authenticated user'),
    ...errorResponses(401, 403),
  },
});

export const updateMe = createRoute({
  method: 'patch',
  path: '/auth/me',
  operationId: 'updateCurrentUser',
  ...signedIn('auth', 'account:write'),
  summary: "Change the caller's own name",
  request: { body: jsonBody(UpdateMeBody, 'The new name (`null` clears it)') },
  responses: { 200: jsonResponse(UserSchema, 'The updated user'), ...errorResponses(401, 403) },
});

export const changePassword = createRoute({
  method: 'post',
  path: '/auth/me/password',
  operationId: 'changePassword',
  summary: "Change the caller's password; every other session is revoked",
  description:
    "A wrong current password is a 403 and counts as a failed login. Every access token issued before stops working, this one included; this session's refresh token stays valid, so refresh to go on.",
  ...signedIn('auth', 'session', limitPerIp('password')),
  request: { body: jsonBody(ChangePasswordBody, 'The current and the new password') },
  responses: { 204: { description: 'Changed' }, ...errorResponses(401, 403, 429) },
});
