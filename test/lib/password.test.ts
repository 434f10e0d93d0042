import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  dummyPasswordHash,
  hashPassword,
  scryptImplementations,
  verifyPassword,
  type PasswordPolicy,
} from '../../src/lib/password.ts';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const text = (value: string) => new TextEncoder().encode(value);

// RFC 7914 section 12 (dkLen 64; our implementations derive 32 bytes, the vector's first half).
const RFC_7914 = [
  {
    password: '',
    salt: '',
    params: { logN: 4, r: 1, p: 1 },
    key: '77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442',
  },
  {
    password: 'password',
    salt: 'NaCl',
    params: { logN: 10, r: 8, p: 16 },
    key: 'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162',
  },
  {
    password: 'pleaseletmein',
    salt: 'SodiumChloride',
    params: { logN: 14, r: 8, p: 1 },
    key: '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2',
  },
];

describe('scrypt implementations match RFC 7914', () => {
  for (const name of ['native', 'portable'] as const) {
    it(`${name} (node:crypto under nodejs_compat / @noble/hashes)`, () => {
      const scrypt = scryptImplementations[name];
      expect(scrypt, `${name} implementation available in workerd`).toBeDefined();
      for (const vector of RFC_7914) {
        expect(hex(scrypt!(text(vector.password), text(vector.salt), vector.params))).toBe(vector.key);
      }
    });
  }
});

const SCRYPT: PasswordPolicy = { algorithm: 'scrypt', logN: 10, r: 8, p: 1 };
const PBKDF2: PasswordPolicy = { algorithm: 'pbkdf2-sha256', iterations: 1000 };

describe('password hashes', () => {
  it('stores a self-describing PHC string and verifies it', async () => {
    const hash = await hashPassword('s3cret-passphrase', SCRYPT);
    expect(hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('s3cret-passphrase', hash, SCRYPT)).toEqual({ valid: true, needsRehash: false });
    expect((await verifyPassword('s3cret-passphrasE', hash, SCRYPT)).valid).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same', SCRYPT)).not.toBe(await hashPassword('same', SCRYPT));
  });

  it('supports PBKDF2-SHA256 through WebCrypto', async () => {
    const hash = await hashPassword('pbkdf2 password', PBKDF2);
    expect(hash).toMatch(/^\$pbkdf2-sha256\$i=1000\$/);
    expect(await verifyPassword('pbkdf2 password', hash, PBKDF2)).toEqual({ valid: true, needsRehash: false });
  });

  it('keeps verifying old parameters after the policy rises, and asks for a rehash', async () => {
    const old = await hashPassword('keep me', PBKDF2);
    expect(await verifyPassword('keep me', old, SCRYPT)).toEqual({ valid: true, needsRehash: true });
    const weaker = await hashPassword('keep me', { ...SCRYPT, logN: 9 });
    expect(await verifyPassword('keep me', weaker, SCRYPT)).toEqual({ valid: true, needsRehash: true });
  });

  it('verifies bcrypt hashes from the original system ($2a$, $2b$, $2y$) and always asks for a rehash', async () => {
    const hash = bcrypt.hashSync('legacy password', 4);
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const variant = prefix + hash.slice(4);
      expect(await verifyPassword('legacy password', variant, SCRYPT)).toEqual({ valid: true, needsRehash: true });
      expect((await verifyPassword('wrong password', variant, SCRYPT)).valid).toBe(false);
    }
  });

  it('treats malformed or dangerous stored values as non-matching instead of throwing', async () => {
    const garbage = [
      '',
      'plaintext',
      '$scrypt$ln=10,r=8,p=1$!!!$abc',
      '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaA', // 128 GiB of memory: refused, not attempted
      '$pbkdf2-sha256$i=100000000$c2FsdA$aGFzaA', // beyond the Workers limit
      '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
      '$2b$04$tooshort',
    ];
    for (const stored of garbage) {
      expect((await verifyPassword('anything', stored, SCRYPT)).valid).toBe(false);
    }
  });

  it('compares in constant time over the full length', () => {
    expect(constantTimeEqual(text('abc'), text('abc'))).toBe(true);
    expect(constantTimeEqual(text('abc'), text('abd'))).toBe(false);
    expect(constantTimeEqual(text('abc'), text('abcd'))).toBe(false);
  });

  it('keeps one dummy hash per policy, under that policy', async () => {
    const dummy = await dummyPasswordHash(SCRYPT);
    expect(dummy).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect(await dummyPasswordHash(SCRYPT)).toBe(dummy);
  });
});
