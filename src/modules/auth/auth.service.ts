import type { AppConfig } from '../../config.ts';
import type { Database } from '../../db/client.ts';
import type { UserRow } from '../../db/schema.ts';
import { issueAccessToken, type AccessToken } from '../../lib/jwt.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../lib/password.ts';
import { AppError, forbidden } from '../../lib/problem.ts';
import { createUser, findUserByEmail, replacePasswordHash } from '../users/users.service.ts';

export interface SignupInput {
  email: string;
  password: string;
  fullName?: string | null;
}

/** Self-service signup always creates an ordinary user; only an admin or the CLI makes admins. */
export function signUp(db: Database, input: SignupInput, config: AppConfig): Promise<UserRow> {
  return createUser(db, { ...input, role: 'user' }, config.passwordPolicy);
}

// One body for unknown email and wrong password, so the answer does not reveal who has an account.
const invalidCredentials = () =>
  new AppError(401, 'invalid email or password', { headers: { 'WWW-Authenticate': 'Bearer realm="aegisflow"' } });

export async function logIn(db: Database, email: string, password: string, config: AppConfig): Promise<AccessToken> {
  const user = await findUserByEmail(db, email);
  if (!user) {
    // Spend the same hashing time as a real check, so timing does not reveal it either.
    await verifyPassword(password, await dummyPasswordHash(config.passwordPolicy), config.passwordPolicy);
    throw invalidCredentials();
  }
  const { valid, needsRehash } = await verifyPassword(password, user.passwordHash, config.passwordPolicy);
  if (!valid) throw invalidCredentials();
  // Checked only after the password, so an attacker cannot probe which accounts are deactivated.
  if (!user.isActive) throw forbidden('this account is inactive');
  if (needsRehash) {
    await replacePasswordHash(db, user.id, await hashPassword(password, config.passwordPolicy));
  }
  return issueAccessToken(user.id, config.jwt);
}
