/**
 * The simulated camera's two authentication schemes (domain 5-onvif.md §5.2):
 * WS-UsernameToken PasswordDigest on SOAP calls, and HTTP Digest (RFC 7616, MD5, qop=auth) on the
 * snapshot URL. Its own implementation: it shares nothing with the driver's digest client.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { UsernameToken } from './soap.js';

/** base64(sha1(nonce_raw ‖ created ‖ password)): the SHA-1 input is the raw nonce bytes. */
export function passwordDigest(nonceBase64: string, created: string, password: string): string {
  return createHash('sha1')
    .update(
      Buffer.concat([Buffer.from(nonceBase64, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]),
    )
    .digest('base64');
}

export type TokenVerdict = 'ok' | 'missing' | 'wrong-user' | 'wrong-password' | 'stale' | 'replayed';

/**
 * Checks UsernameTokens: right user and digest, Created within ±`skewMs` of the camera clock, and,
 * with `refuseReplays`, a (nonce, created) pair not seen before inside that window. Off by
 * default: Debian's onvif-util sends one nonce for a whole session, so two requests in the same
 * millisecond carry the same token, and cameras in the field accept that.
 */
export class UsernameTokenVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly credentials: { username: string; password: string },
    private readonly skewMs = 5 * 60_000,
    private readonly refuseReplays = false,
  ) {}

  verify(token: UsernameToken | undefined, now: number): TokenVerdict {
    if (!token) return 'missing';
    if (token.username !== this.credentials.username) return 'wrong-user';
    if (token.passwordType === 'PasswordText')
      return token.password === this.credentials.password ? 'ok' : 'wrong-password';
    if (token.nonce === undefined || token.created === undefined) return 'wrong-password';
    if (passwordDigest(token.nonce, token.created, this.credentials.password) !== token.password)
      return 'wrong-password';
    const created = Date.parse(token.created);
    if (!Number.isFinite(created) || Math.abs(created - now) > this.skewMs) return 'stale';
    if (!this.refuseReplays) return 'ok';
    for (const [key, at] of this.seen) if (now - at > this.skewMs) this.seen.delete(key);
    const key = `${token.nonce}|${token.created}`;
    if (this.seen.has(key)) return 'replayed';
    this.seen.set(key, now);
    return 'ok';
  }
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** Parses `Digest a="b", c=d` into a map (values unquoted). */
export function parseDigestHeader(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  const rest = header.replace(/^\s*Digest\s+/i, '');
  for (const m of rest.matchAll(/([A-Za-z0-9-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) {
    const key = m[1];
    if (key) out[key.toLowerCase()] = m[2] ?? m[3] ?? '';
  }
  return out;
}

/** Server side of HTTP Digest for one realm: issues challenges and checks Authorization headers. */
export class HttpDigestServer {
  private readonly nonces = new Set<string>();

  constructor(
    private readonly credentials: { username: string; password: string },
    readonly realm = 'citygrid-sim',
  ) {}

  /** A fresh `WWW-Authenticate` value. */
  challenge(): string {
    const nonce = randomBytes(16).toString('hex');
    this.nonces.add(nonce);
    // bounded: a client that never answers must not grow the set
    if (this.nonces.size > 256) this.nonces.delete(this.nonces.values().next().value as string);
    return `Digest realm="${this.realm}", qop="auth", nonce="${nonce}", algorithm=MD5`;
  }

  /** True when `authorization` answers one of our nonces with the right password for `method uri`. */
  check(authorization: string | undefined, method: string): boolean {
    if (!authorization?.toLowerCase().startsWith('digest ')) return false;
    const a = parseDigestHeader(authorization);
    if (a.username !== this.credentials.username || !a.nonce || !this.nonces.has(a.nonce) || !a.uri) return false;
    const ha1 = md5(`${a.username}:${this.realm}:${this.credentials.password}`);
    const ha2 = md5(`${method}:${a.uri}`);
    const expected =
      a.qop === 'auth' ? md5(`${ha1}:${a.nonce}:${a.nc}:${a.cnonce}:auth:${ha2}`) : md5(`${ha1}:${a.nonce}:${ha2}`);
    return expected === a.response;
  }
}
