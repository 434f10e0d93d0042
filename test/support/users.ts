import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { call } from './http.ts';
import { sql } from './db.ts';

export const PASSWORD = 'correct horse battery';

export function uniqueEmail(label = 'user'): string {
  return `${label}-${crypto.randomUUID()}@example.com`;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

/** Signs up through the API, optionally makes the user an admin in the database, and logs in. */
export async function createUser(
  options: { role?: 'user' | 'admin'; label?: string; fullName?: string } = {},
): Promise<TestUser> {
  const email = uniqueEmail(options.label ?? options.role ?? 'user');
  const signup = await call('POST', '/auth/signup', {
    json: { email, password: PASSWORD, full_name: options.fullName },
  });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${signup.text}`);
  if (options.role === 'admin') await sql()`update users set role = 'admin' where id = ${signup.body.id}`;
  const tokens = await logInForTokens(email, PASSWORD);
  return {
    id: signup.body.id,
    email,
    password: PASSWORD,
    token: tokens.access_token,
    refreshToken: tokens.refresh_token,
  };
}

export async function logInForTokens(
  email: string,
  password: string,
): Promise<{ access_token: string; refresh_token: string }> {
  const login = await call('POST', '/auth/login', { json: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return login.body;
}

export const logIn = async (email: string, password: string): Promise<string> =>
  (await logInForTokens(email, password)).access_token;

/** A token with arbitrary claims and key, for attacks the API must refuse. */
export async function signToken(
  claims: Record<string, unknown>,
  options: {
    secret?: string;
    issuer?: string;
    audience?: string | null;
    typ?: string;
    expiresIn?: string | number;
    subject?: string;
  } = {},
): Promise<string> {
  // A session id and the epoch a fresh account has, unless the test says otherwise.
  const jwt = new SignJWT({ sid: crypto.randomUUID(), tep: 0, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: options.typ ?? 'at+jwt' })
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setIssuer(options.issuer ?? env.JWT_ISSUER ?? 'aegisflow')
    .setExpirationTime(options.expiresIn ?? '10m');
  if (options.audience !== null) jwt.setAudience(options.audience ?? 'aegisflow-api');
  if (options.subject) jwt.setSubject(options.subject);
  return jwt.sign(new TextEncoder().encode(options.secret ?? env.JWT_SECRET));
}
