/** Opaque secrets handed to clients (refresh tokens) and the digests kept instead of them. */

const base64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** 256 random bits, base64url: 43 characters. */
export const newOpaqueToken = () => base64Url(crypto.getRandomValues(new Uint8Array(32)));

export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * SHA-256, hex. A plain digest is enough for a refresh token (256 random bits: nothing to guess, so no slow
 * hash), and it lets the database find the token by its digest. Also keys the login throttle by email, so
 * addresses that were never accounts are not stored as typed.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
