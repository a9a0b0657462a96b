import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticateAccount, buildAccountBook } from '../../hub/src/broker/accounts.js';
import { hashPassword, plainPasswordMatches, verifyPasswordHash } from '../../hub/src/broker/passwords.js';

describe('password hashing', () => {
  it('produces the config format and verifies only the right password', async () => {
    const password = randomBytes(12).toString('base64url');
    const hash = await hashPassword(password);
    expect(hash).toMatch(/^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(await verifyPasswordHash(password, hash)).toBe(true);
    expect(await verifyPasswordHash(`${password}x`, hash)).toBe(false);
    expect(await verifyPasswordHash(Buffer.from(password), hash)).toBe(true);
  });

  it('salts: the same password hashes differently twice', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('never matches a malformed hash', async () => {
    expect(await verifyPasswordHash('x', 'scrypt$zz$00')).toBe(false);
    expect(await verifyPasswordHash('x', 'plain')).toBe(false);
  });

  it('compares plain passwords of different lengths without throwing', () => {
    expect(plainPasswordMatches('abc', 'abc')).toBe(true);
    expect(plainPasswordMatches('abc', 'abcd')).toBe(false);
  });
});

describe('authenticateAccount', () => {
  it('maps credentials to a principal with the district from the city', async () => {
    const hashed = await hashPassword('reader-secret');
    const book = buildAccountBook(
      {
        gateways: [{ id: 'gw-xh-01', password: 'gw-secret' }],
        readers: [{ username: 'integrator', passwordHash: hashed }],
      },
      { gateways: [{ id: 'gw-xh-01', district: 'xihu' }] },
    );
    expect(await authenticateAccount(book, 'gw-xh-01', Buffer.from('gw-secret'))).toEqual({
      ok: true,
      principal: { role: 'gateway', id: 'gw-xh-01', district: 'xihu' },
    });
    expect(await authenticateAccount(book, 'integrator', Buffer.from('reader-secret'))).toEqual({
      ok: true,
      principal: { role: 'reader', id: 'integrator' },
    });
    expect(await authenticateAccount(book, 'gw-xh-01', Buffer.from('wrong'))).toEqual({
      ok: false,
      reason: 'bad-password',
    });
    expect(await authenticateAccount(book, 'nobody', Buffer.from('x'))).toEqual({ ok: false, reason: 'unknown-user' });
    expect(await authenticateAccount(book, undefined, undefined)).toEqual({ ok: false, reason: 'no-credentials' });
  });
});
