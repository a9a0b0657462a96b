/**
 * Console authentication: login with a per-username and per-address rate limit, the session
 * cookie, logout, and the user of a request. Counted in /metrics: logins by result and live
 * sessions.
 *
 * Cookie: `cg_session=<32 random bytes, base64url>; HttpOnly; SameSite=Strict; Path=/; Max-Age=<ttl>`.
 * HttpOnly keeps it from page scripts; SameSite=Strict keeps other sites from making the browser
 * send it (the CSRF defence). No `Secure`: the hub serves plain HTTP on a control-room network;
 * put TLS in front of it and the proxy can add it.
 */
import type { IncomingMessage } from 'node:http';
import type { ConsoleConfig } from '../../../config/schema/hub.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { Counter, MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { LoginLimiter } from './login-limiter.js';
import { type Session, SessionStore } from './sessions.js';
import { type ConsoleUser, UserDirectory } from './users.js';

export const SESSION_COOKIE = 'cg_session';

export type LoginResult =
  | { ok: true; session: Session; cookie: string }
  | { ok: false; status: 401 }
  | { ok: false; status: 429; retryAfterS: number };

export interface ConsoleAuthOptions {
  now?: () => number;
}

export class ConsoleAuth {
  readonly sessions: SessionStore;
  private readonly users: UserDirectory;
  private readonly limiter: LoginLimiter;
  private readonly logins: Counter;
  private readonly ttlMs: number;

  constructor(
    config: Pick<ConsoleConfig, 'users' | 'sessionTtlMinutes' | 'loginAttemptsPerMinute'>,
    private readonly log: Logger,
    metrics: MetricsRegistry,
    opts: ConsoleAuthOptions = {},
  ) {
    this.ttlMs = config.sessionTtlMinutes * 60_000;
    this.users = new UserDirectory(config.users);
    this.sessions = new SessionStore({ ttlMs: this.ttlMs, ...(opts.now ? { now: opts.now } : {}) });
    this.limiter = new LoginLimiter(config.loginAttemptsPerMinute, opts.now);
    this.logins = metrics.counter(
      'citygrid_console_logins_total',
      'Console logins by result: ok, failed (wrong user or password), limited (refused by the rate limit).',
    );
    metrics.gauge('citygrid_console_sessions_active', 'Console sessions not yet expired or logged out.', (g) =>
      g.set({}, this.sessions.activeCount),
    );
  }

  async login(username: string, password: string, address: string): Promise<LoginResult> {
    const keys = [`user:${username}`, `addr:${address}`];
    const wait = this.limiter.blockedFor(keys);
    if (wait > 0) {
      this.logins.inc({ result: 'limited' });
      this.log.warn({ user: username, address }, 'Console login refused: too many failed attempts');
      return { ok: false, status: 429, retryAfterS: wait };
    }
    const user = await this.users.check(username, password);
    if (!user) {
      this.limiter.fail(keys);
      this.logins.inc({ result: 'failed' });
      this.log.warn({ user: username, address }, 'Console login failed');
      return { ok: false, status: 401 };
    }
    this.limiter.succeed(`user:${username}`);
    const session = this.sessions.create(user);
    this.logins.inc({ result: 'ok' });
    this.log.info({ user: user.id, role: user.role, address }, 'Console login');
    const maxAge = Math.floor(this.ttlMs / 1000);
    const cookie = `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}`;
    return { ok: true, session, cookie };
  }

  /** The live session the request's cookie names, if any. */
  sessionOf(req: IncomingMessage): Session | undefined {
    return this.sessions.get(sessionId(req));
  }

  userOf(req: IncomingMessage): ConsoleUser | undefined {
    return this.sessionOf(req)?.user;
  }

  /** Ends the request's session; true when there was one. */
  logout(req: IncomingMessage): boolean {
    const s = this.sessionOf(req);
    if (!s) return false;
    this.sessions.end(s.id);
    this.log.info({ user: s.user.id }, 'Console logout');
    return true;
  }
}

/** The cookie that clears the session cookie in the browser. */
export const CLEAR_COOKIE = `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

function sessionId(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}
