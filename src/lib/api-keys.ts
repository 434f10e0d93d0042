import { sha256Hex } from './secrets.ts';

/*
 * API keys for machines (modules/api-keys). A key reads
 *
 *   afk_ <key id: 22> <user id: 22> <grant: 4> <secret: 43> <checksum: 6>
 *
 * all in base62, so secret scanners can match `afk_[0-9A-Za-z]{97}` and double-clicking selects it whole.
 * The secret is 256 random bits; the checksum, CRC-32 of everything before it (as GitHub's tokens carry),
 * lets a mistyped key be refused without a database read. The key names its id and its user, and carries its
 * grant (scopes and role cap, fixed at creation), so the caller is known and a missing scope refused before
 * any database work; the database keeps only the SHA-256 digest of the whole key, which every request
 * checks in the statement that reads the caller (db/users.ts `isCaller`), so no part can be altered.
 */

export const API_KEY_PREFIX = 'afk_';
export const API_KEY = /^afk_[0-9A-Za-z]{97}$/;

/**
 * The scopes a key may hold, bit by bit in the key: never reorder, only append. Those of the project role
 * table are derived from its actions (modules/projects/access.ts `ACTION_SCOPES`); a test holds the two
 * together.
 */
export const SCOPES = [
  'projects:read',
  'projects:write',
  'members:read',
  'members:write',
  'tasks:read',
  'tasks:write',
  'workflows:write',
  'audit:read',
  'admin',
  'account:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/** The role caps a key may carry, from 1 in the key (0: none). */
export const KEY_MAX_ROLES = ['viewer', 'editor', 'manager'] as const;
export type KeyMaxRole = (typeof KEY_MAX_ROLES)[number];

/** What a key may do, as it carries it. */
export interface KeyGrant {
  scopes: Scope[];
  maxRole: KeyMaxRole | null;
}

/** A key as presented, once its format and checksum hold. */
export interface PresentedKey extends KeyGrant {
  keyId: string;
  userId: string;
  /** The SHA-256 of the whole key, hex: what the database holds. */
  keyHash: string;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGIT = new Map([...ALPHABET].map((character, index) => [character, BigInt(index)]));

/** `bytes` as exactly `width` base62 digits (most significant first). */
function toBase62(bytes: Uint8Array, width: number): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let text = '';
  for (let index = 0; index < width; index++) {
    text = ALPHABET[Number(value % 62n)]! + text;
    value /= 62n;
  }
  if (value !== 0n) throw new Error('the value does not fit its width');
  return text;
}

/** `length` bytes from base62 `text`, or null when the number does not fit them. */
function fromBase62(text: string, length: number): Uint8Array | null {
  let value = 0n;
  for (const character of text) value = value * 62n + DIGIT.get(character)!;
  const bytes = new Uint8Array(length);
  for (let index = length - 1; index >= 0; index--) {
    bytes[index] = Number(value & 0xffn);
    value >>= 8n;
  }
  return value === 0n ? bytes : null;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE) of ASCII `text`, as 6 base62 digits. */
function checksum(text: string): string {
  let crc = 0xffffffff;
  for (let index = 0; index < text.length; index++) {
    crc = CRC_TABLE[(crc ^ text.charCodeAt(index)) & 0xff]! ^ (crc >>> 8);
  }
  const value = (crc ^ 0xffffffff) >>> 0;
  return toBase62(new Uint8Array([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]), 6);
}

const uuidBytes = (uuid: string) => Uint8Array.from(uuid.replace(/-/g, '').match(/../g)!, (hex) => parseInt(hex, 16));
const uuidOf = (bytes: Uint8Array) => {
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** The grant as 16 bits: the scopes' bits (low 12), the role cap (high 4). */
function grantBits({ scopes, maxRole }: KeyGrant): Uint8Array {
  let bits = 0;
  for (const scope of scopes) bits |= 1 << SCOPES.indexOf(scope);
  bits |= (maxRole ? KEY_MAX_ROLES.indexOf(maxRole) + 1 : 0) << 12;
  return new Uint8Array([bits >>> 8, bits & 0xff]);
}

function grantOf(bytes: Uint8Array): KeyGrant | null {
  const bits = (bytes[0]! << 8) | bytes[1]!;
  const role = bits >>> 12;
  if (role > KEY_MAX_ROLES.length || (bits & 0xfff) >>> SCOPES.length !== 0) return null;
  return {
    scopes: SCOPES.filter((_, index) => bits & (1 << index)),
    maxRole: role === 0 ? null : KEY_MAX_ROLES[role - 1]!,
  };
}

/** `text` (the prefix and body of a key) with its checksum appended. */
export const withChecksum = (text: string) => text + checksum(text);

/** A new key for `userId` with `grant`: the key, shown once, and what the database keeps. */
export async function newApiKey(
  userId: string,
  grant: KeyGrant,
): Promise<{ key: string; keyId: string; keyHash: string; prefix: string }> {
  const keyId = crypto.randomUUID();
  const body =
    toBase62(uuidBytes(keyId), 22) +
    toBase62(uuidBytes(userId), 22) +
    toBase62(grantBits(grant), 4) +
    toBase62(crypto.getRandomValues(new Uint8Array(32)), 43);
  const key = withChecksum(API_KEY_PREFIX + body);
  return { key, keyId, keyHash: await sha256Hex(key), prefix: keyPrefix(key) };
}

/** What a list shows to recognise a key by: the prefix and the start of its id, never of its secret. */
export const keyPrefix = (key: string) => key.slice(0, API_KEY_PREFIX.length + 8);

/** The key `text` names, or null when it is not one this API could have issued (format or checksum). */
export async function parseApiKey(text: string): Promise<PresentedKey | null> {
  if (!API_KEY.test(text)) return null;
  const body = text.slice(API_KEY_PREFIX.length, -6);
  if (checksum(API_KEY_PREFIX + body) !== text.slice(-6)) return null;
  const keyId = fromBase62(body.slice(0, 22), 16);
  const userId = fromBase62(body.slice(22, 44), 16);
  const grant = fromBase62(body.slice(44, 48), 2);
  const granted = grant && grantOf(grant);
  // The secret is not decoded: the digest of the whole key is what the database compares.
  if (!keyId || !userId || !granted) return null;
  return { keyId: uuidOf(keyId), userId: uuidOf(userId), ...granted, keyHash: await sha256Hex(text) };
}

/**
 * Keys already parsed, per isolate: a machine sends the same key with every request, and decoding it and
 * hashing it again is a noticeable share of a short request. Keyed by the whole key, so a changed byte
 * misses; the database still checks the key on every request.
 */
const parsedKeys = new Map<string, PresentedKey>();
const MAX_PARSED_KEYS = 1000;

/** `parseApiKey`, remembered for the keys that parse. */
export async function presentedApiKey(text: string): Promise<PresentedKey | null> {
  const known = parsedKeys.get(text);
  if (known) return known;
  const key = await parseApiKey(text);
  if (key) {
    if (parsedKeys.size >= MAX_PARSED_KEYS) parsedKeys.delete(parsedKeys.keys().next().value!);
    parsedKeys.set(text, key);
  }
  return key;
}
