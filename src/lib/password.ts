import * as nodeCrypto from 'node:crypto';
import { scrypt as nobleScrypt } from '@noble/hashes/scrypt.js';
import bcrypt from 'bcryptjs';
import { z } from 'zod';

/**
 * Password hashing. Stored values are PHC-style strings that carry their own parameters
 * (`$scrypt$ln=14,r=8,p=5$salt$hash`, `$pbkdf2-sha256$i=100000$salt$hash`), so the policy can rise
 * later without breaking old hashes; bcrypt (`$2a$`/`$2b$`/`$2y$`) is accepted for users imported from
 * the original passlib system and is replaced on their next successful login.
 */

// Production Workers reject WebCrypto PBKDF2 above 100,000 iterations (workerd issue 1346) and cap an
// isolate at 128 MB; local workerd enforces neither, so both limits are checked here instead.
export const MAX_PBKDF2_ITERATIONS = 100_000;
export const MAX_SCRYPT_MEMORY_BYTES = 64 * 1024 * 1024;
const MAX_SCRYPT_P = 16;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

const scryptMemory = (logN: number, r: number) => 128 * r * 2 ** logN;

export const passwordPolicySchema = z.discriminatedUnion('algorithm', [
  z
    .object({
      algorithm: z.literal('scrypt'),
      logN: z.number().int().min(1).max(24),
      r: z.number().int().min(1).max(32),
      p: z.number().int().min(1).max(MAX_SCRYPT_P),
    })
    .refine((policy) => scryptMemory(policy.logN, policy.r) <= MAX_SCRYPT_MEMORY_BYTES, {
      message: `scrypt memory (128 * r * 2^logN) must not exceed ${MAX_SCRYPT_MEMORY_BYTES / 1024 / 1024} MiB: Workers cap an isolate at 128 MB`,
    }),
  z.object({
    algorithm: z.literal('pbkdf2-sha256'),
    iterations: z
      .number()
      .int()
      .min(1)
      .max(
        MAX_PBKDF2_ITERATIONS,
        `PBKDF2 iterations must not exceed ${MAX_PBKDF2_ITERATIONS}: Cloudflare Workers reject more`,
      ),
  }),
]);
export type PasswordPolicy = z.infer<typeof passwordPolicySchema>;

type ScryptParams = { logN: number; r: number; p: number };
type ScryptFunction = (password: Uint8Array, salt: Uint8Array, params: ScryptParams) => Uint8Array;

/** Both implementations are exported so tests can prove each against RFC 7914. */
export const scryptImplementations: Record<'native' | 'portable', ScryptFunction | undefined> = {
  // node:crypto (nodejs_compat) runs natively in workerd, about twice as fast as pure JS.
  native:
    typeof nodeCrypto.scryptSync === 'function'
      ? (password, salt, { logN, r, p }) =>
          new Uint8Array(
            nodeCrypto.scryptSync(password, salt, KEY_BYTES, {
              N: 2 ** logN,
              r,
              p,
              maxmem: 2 * MAX_SCRYPT_MEMORY_BYTES,
            }),
          )
      : undefined,
  portable: (password, salt, { logN, r, p }) =>
    nobleScrypt(password, salt, { N: 2 ** logN, r, p, dkLen: KEY_BYTES, maxmem: 2 * MAX_SCRYPT_MEMORY_BYTES }),
};
const scrypt: ScryptFunction = scryptImplementations.native ?? scryptImplementations.portable!;

async function pbkdf2Sha256(password: Uint8Array, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, '');
}

function fromBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.padEnd(Math.ceil(text.length / 4) * 4, '=')), (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Compares in time that depends only on the lengths, never on where the bytes differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

async function derive(password: string, salt: Uint8Array, policy: PasswordPolicy): Promise<Uint8Array> {
  const bytes = encoder.encode(password);
  return policy.algorithm === 'scrypt' ? scrypt(bytes, salt, policy) : pbkdf2Sha256(bytes, salt, policy.iterations);
}

function encode(policy: PasswordPolicy, salt: Uint8Array, key: Uint8Array): string {
  const params =
    policy.algorithm === 'scrypt' ? `ln=${policy.logN},r=${policy.r},p=${policy.p}` : `i=${policy.iterations}`;
  return `$${policy.algorithm}$${params}$${toBase64(salt)}$${toBase64(key)}`;
}

type ParsedHash = { policy: PasswordPolicy; salt: Uint8Array; key: Uint8Array };

/** Parses a stored PHC string; anything malformed or outside the safe limits yields undefined. */
function decode(stored: string): ParsedHash | undefined {
  const [empty, algorithm, params, saltText, keyText, ...rest] = stored.split('$');
  if (empty !== '' || rest.length > 0 || !params || !saltText || !keyText) return undefined;
  const values = Object.fromEntries(
    params
      .split(',')
      .map((pair) => pair.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
  const candidate =
    algorithm === 'scrypt'
      ? { algorithm, logN: values.ln, r: values.r, p: values.p }
      : { algorithm, iterations: values.i };
  const policy = passwordPolicySchema.safeParse(candidate);
  const salt = fromBase64(saltText);
  const key = fromBase64(keyText);
  if (!policy.success || !salt || !key || key.length === 0) return undefined;
  return { policy: policy.data, salt, key };
}

const samePolicy = (a: PasswordPolicy, b: PasswordPolicy) => JSON.stringify(a) === JSON.stringify(b);

export async function hashPassword(password: string, policy: PasswordPolicy): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return encode(policy, salt, await derive(password, salt, policy));
}

export interface VerifyResult {
  valid: boolean;
  /** True when the stored hash does not match the current policy and should be replaced. */
  needsRehash: boolean;
}

export async function verifyPassword(password: string, stored: string, policy: PasswordPolicy): Promise<VerifyResult> {
  if (/^\$2[aby]\$\d\d\$/.test(stored)) {
    const valid = await bcrypt.compare(password, stored).catch(() => false);
    return { valid, needsRehash: true };
  }
  const parsed = decode(stored);
  if (!parsed) return { valid: false, needsRehash: true };
  const key = await derive(password, parsed.salt, parsed.policy);
  const valid = constantTimeEqual(key, parsed.key);
  return { valid, needsRehash: !samePolicy(parsed.policy, policy) };
}

const dummyHashes = new Map<string, Promise<string>>();

/**
 * A hash of a random password under the current policy. Verifying against it when an email is unknown
 * makes that answer cost the same time as a wrong password, so timing does not reveal who has an account.
 */
export function dummyPasswordHash(policy: PasswordPolicy): Promise<string> {
  const cacheKey = JSON.stringify(policy);
  let hash = dummyHashes.get(cacheKey);
  if (!hash) {
    hash = hashPassword(crypto.randomUUID(), policy);
    dummyHashes.set(cacheKey, hash);
  }
  return hash;
}
