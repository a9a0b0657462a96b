/** Console auth building blocks with an injected clock: sessions, the login rate limit, the password check. */
import { describe, expect, it } from 'vitest';
import { LoginLimiter } from '../../../hub/src/auth/login-limiter.js';
import { SessionStore } from '../../../hub/src/auth/sessions.js';
import { UserDirectory } from '../../../hub/src/auth/users.js';
import { hashPassword } from '../../../hub/src/broker/passwords.js';

const user = { id: 'sup', name: 'Sup', role: 'city_supervisor' as const };

describe('SessionStore', () => {
  it('gives random 32-byte ids and ends a session at its absolute expiry, however often it is used', () => {
    let now = 1_000_000;
    const store = new SessionStore({ ttlMs: 60_000, now: () => now });
    const a = store.create(user);
    const b = store.create(user);
    expect(Buffer.from(a.id, 'base64url')).toHaveLength(32);
    expect(a.id).not.toBe(b.id);
    expect(a.expiresAt).toBe(1_060_000);
    now += 59_999;
    expect(store.get(a.id)?.user).toEqual(user); // use does not extend it
    now += 1;
    expect(store.get(a.id)).toBeUndefined();
    expect(store.activeCount).toBe(0);
    expect(store.get(undefined)).toBeUndefined();
    expect(store.get('not-a-session')).toBeUndefined();
  });

  it('ends a session on logout and tells listeners (open streams close with it)', () => {
    const store = new SessionStore({ ttlMs: 60_000 });
    const ended: string[] = [];
    store.onEnd((s) => ended.push(s.id));
    const s = store.create(user);
    expect(store.end(s.id)).toBe(true);
    expect(store.end(s.id)).toBe(false);
    expect(store.get(s.id)).toBeUndefined();
    expect(ended).toEqual([s.id]);
  });

  it('drops the oldest session beyond the bound', () => {
    const store = new SessionStore({ ttlMs: 60_000, maxSessions: 2 });
    const [a, b, c] = [store.create(user), store.create(user), store.create(user)];
    expect(store.get(a.id)).toBeUndefined();
    expect(store.get(b.id)).toBeDefined();
    expect(store.get(c.id)).toBeDefined();
  });
});

describe('LoginLimiter', () => {
  it('blocks a key after `limit` failures within a minute, until the oldest leaves the window', () => {
    let now = 0;
    const limiter = new LoginLimiter(3, () => now);
    const keys = ['user:a', 'addr:1'];
    for (let i = 0; i < 3; i++) {
      expect(limiter.blockedFor(keys)).toBe(0);
      limiter.fail(keys);
      now += 10_000;
    }
    expect(limiter.blockedFor(keys)).toBe(30); // first failure at 0 leaves the window at 60 s
    expect(limiter.blockedFor(['user:b', 'addr:1'])).toBe(30); // the address is blocked for every name
    expect(limiter.blockedFor(['user:a', 'addr:2'])).toBe(30); // the name from every address
    expect(limiter.blockedFor(['user:b', 'addr:2'])).toBe(0);
    now = 60_000;
    expect(limiter.blockedFor(keys)).toBe(0);
  });

  it('clears a username on success', () => {
    const limiter = new LoginLimiter(2, () => 0);
    limiter.fail(['user:a']);
    limiter.fail(['user:a']);
    expect(limiter.blockedFor(['user:a'])).toBeGreaterThan(0);
    limiter.succeed('user:a');
    expect(limiter.blockedFor(['user:a'])).toBe(0);
  });
});

describe('UserDirectory', () => {
  it('checks passwords against scrypt hashes and never shows the hash', async () => {
    const dir = new UserDirectory([
      { id: 'cmd', role: 'district_commander', district: 'xihu', passwordHash: await hashPassword('right horse') },
    ]);
    expect(await dir.check('cmd', 'right horse')).toEqual({
      id: 'cmd',
      name: 'cmd',
      role: 'district_commander',
      district: 'xihu',
    });
    expect(await dir.check('cmd', 'wrong horse')).toBeUndefined();
    expect(await dir.check('nobody', 'right horse')).toBeUndefined();
    expect(await dir.check('cmd', '')).toBeUndefined();
  });
});
