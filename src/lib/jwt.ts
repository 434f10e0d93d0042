import { errors, jwtVerify, SignJWT } from 'jose';
import type { AppConfig } from '../config.ts';
import { unauthorized } from './problem.ts';
import { isUuid } from './uuid.ts';

const ALGORITHM = 'HS256';

// jose imports a raw secret into a CryptoKey on every call; importing once per secret saves that work
// on every authenticated request.
const keys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
function signingKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, key);
  }
  return key;
}

export interface AccessToken {
  accessToken: string;
  expiresIn: number;
}

export async function issueAccessToken(userId: string, jwt: AppConfig['jwt']): Promise<AccessToken> {
  const accessToken = await new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(jwt.issuer)
    .setIssuedAt()
    .setExpirationTime(`${jwt.expirySeconds}s`)
    .setJti(crypto.randomUUID())
    .sign(await signingKey(jwt.secret));
  return { accessToken, expiresIn: jwt.expirySeconds };
}

/** Returns the user id of a valid token; every failure is a 401 (expiry says so, the rest say "invalid"). */
export async function verifyAccessToken(token: string, jwt: AppConfig['jwt']): Promise<string> {
  try {
    // The algorithm is pinned: `alg: none` and asymmetric-key confusion are rejected before any check.
    const { payload } = await jwtVerify(token, await signingKey(jwt.secret), {
      algorithms: [ALGORITHM],
      issuer: jwt.issuer,
      requiredClaims: ['sub', 'iat', 'exp', 'iss', 'jti'],
    });
    if (typeof payload.sub !== 'string' || !isUuid(payload.sub)) throw unauthorized('invalid token');
    return payload.sub.toLowerCase();
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw unauthorized('token expired');
    if (error instanceof errors.JOSEError) throw unauthorized('invalid token');
    throw error;
  }
}
