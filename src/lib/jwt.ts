import { errors, jwtVerify, SignJWT } from 'jose';
import type { AppConfig } from '../config.ts';
import { unauthorized } from './problem.ts';
import { isUuid } from './uuid.ts';

const ALGORITHM = 'HS256';
/** RFC 9068's media type for JWT access tokens: a token of another kind signed with the same key is not one. */
const TOKEN_TYPE = 'at+jwt';

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

/** What an access token says besides its standard claims: its session (`sid`) and the user's epoch when issued (`tep`). */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  tokenEpoch: number;
}

export async function issueAccessToken(claims: AccessClaims, jwt: AppConfig['jwt']): Promise<AccessToken> {
  const userId = claims.userId;
  const accessToken = await new SignJWT({ sid: claims.sessionId, tep: claims.tokenEpoch })
    .setProtectedHeader({ alg: ALGORITHM, typ: TOKEN_TYPE })
    .setSubject(userId)
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setIssuedAt()
    .setExpirationTime(`${jwt.expirySeconds}s`)
    .setJti(crypto.randomUUID())
    .sign(await signingKey(jwt.secret));
  return { accessToken, expiresIn: jwt.expirySeconds };
}

/**
 * Tokens already verified under one configuration, per isolate. A client sends the same token with every
 * request, and verifying it again (decoding, HMAC, claim checks) is a noticeable share of a short
 * request. An entry is keyed by the whole token, so a changed byte misses, and it is honoured only until
 * the token's own expiry. The user behind it is still read from the database on every request.
 */
const verifiedTokens = new WeakMap<AppConfig['jwt'], Map<string, AccessClaims & { expiresAtMs: number }>>();
const MAX_VERIFIED_TOKENS = 1000;

/** Returns the claims of a valid token; every failure is a 401 (expiry says so, the rest say "invalid"). */
export async function verifyAccessToken(
  token: string,
  jwt: AppConfig['jwt'],
): Promise<AccessClaims & { expiresAtMs: number }> {
  let verified = verifiedTokens.get(jwt);
  if (!verified) verifiedTokens.set(jwt, (verified = new Map()));
  const known = verified.get(token);
  if (known) {
    if (Date.now() < known.expiresAtMs) return known;
    verified.delete(token);
    throw unauthorized('token_expired', 'token expired');
  }

  let claims: AccessClaims & { expiresAtMs: number };
  try {
    // The algorithm is pinned: `alg: none` and asymmetric-key confusion are rejected before any check.
    const { payload } = await jwtVerify(token, await signingKey(jwt.secret), {
      algorithms: [ALGORITHM],
      issuer: jwt.issuer,
      audience: jwt.audience,
      typ: TOKEN_TYPE,
      requiredClaims: ['sub', 'iat', 'exp', 'iss', 'aud', 'jti', 'sid', 'tep'],
    });
    const { sub, sid, tep } = payload;
    if (
      typeof sub !== 'string' ||
      !isUuid(sub) ||
      typeof sid !== 'string' ||
      !isUuid(sid) ||
      !Number.isSafeInteger(tep) ||
      (tep as number) < 0
    ) {
      throw unauthorized('token_invalid', 'invalid token');
    }
    claims = {
      userId: sub.toLowerCase(),
      sessionId: sid.toLowerCase(),
      tokenEpoch: tep as number,
      expiresAtMs: payload.exp! * 1000,
    };
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw unauthorized('token_expired', 'token expired');
    if (error instanceof errors.JOSEError) throw unauthorized('token_invalid', 'invalid token');
    throw error;
  }
  // Oldest first out: a Map iterates in insertion order.
  if (verified.size >= MAX_VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
  verified.set(token, claims);
  return claims;
}
