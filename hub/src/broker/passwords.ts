/**
 * Password hashes for MQTT accounts in the hub config (`passwordHash: scrypt$<salt>$<key>`).
 *
 * scrypt parameters: N = 2^14, r = 8, p = 1 (the Node defaults, ~16 MiB of memory and ~40 ms per
 * check on the 2-core reference box), 16-byte random salt, 32-byte key, both hex. The parameters
 * are fixed rather than stored in the hash so the config format stays a single short string; a
 * change of parameters would get a new prefix (`scrypt2$`).
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const SCRYPT_OPTIONS = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const HASH_FORMAT = /^scrypt\$([0-9a-f]+)\$([0-9a-f]+)$/;

function derive(password: string | Buffer, salt: Buffer, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, SCRYPT_OPTIONS, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password into the `scrypt$<salt hex>$<key hex>` form the hub config accepts. */
export async function hashPassword(password: string, salt: Buffer = randomBytes(SALT_LENGTH)): Promise<string> {
  const key = await derive(password, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('hex')}$${key.toString('hex')}`;
}

/** hashPassword, blocking (~40 ms): for code that writes configs synchronously (test fixtures). */
export function hashPasswordSync(password: string, salt: Buffer = randomBytes(SALT_LENGTH)): string {
  const key = scryptSync(password, salt, KEY_LENGTH, SCRYPT_OPTIONS);
  return `scrypt$${salt.toString('hex')}$${key.toString('hex')}`;
}

/** True when `hash` is a well-formed scrypt hash of `password`. A malformed hash never matches. */
export async function verifyPasswordHash(password: string | Buffer, hash: string): Promise<boolean> {
  const m = HASH_FORMAT.exec(hash);
  if (!m?.[1] || !m[2] || m[2].length % 2 !== 0) return false;
  const expected = Buffer.from(m[2], 'hex');
  const actual = await derive(password, Buffer.from(m[1], 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}

/**
 * Compares a presented password with a plain one from the config in constant time. Both sides
 * are digested first so that their lengths, which timingSafeEqual requires equal, leak nothing.
 */
export function plainPasswordMatches(presented: string | Buffer, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
