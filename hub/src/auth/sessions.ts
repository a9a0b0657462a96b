/**
 * Console sessions: random 32-byte ids (base64url) mapped, in the hub's memory only, to the user
 * and an expiry. Expiry is ABSOLUTE: `ttlMs` after the login, not extended by use, so a session
 * is one shift and a stolen cookie stops working at the end of it whatever its holder does. A
 * hub restart ends every session (users log in again). Expired sessions are dropped when met and
 * by `sweep()` (run on every login), so the map stays bounded by logins per TTL; past
 * `maxSessions` the oldest goes.
 */
import { randomBytes } from 'node:crypto';
import type { ConsoleUser } from './users.js';

export interface Session {
  id: string;
  user: ConsoleUser;
  createdAt: number;
  expiresAt: number;
}

export interface SessionStoreOptions {
  ttlMs: number;
  /** Clock (ms since epoch); tests inject one. */
  now?: () => number;
  /** Bound on live sessions; the oldest is dropped beyond it. Default 10 000. */
  maxSessions?: number;
}

export class SessionStore {
  /** Insertion order is creation order: the first entry is the oldest. */
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  private readonly maxSessions: number;
  private readonly ended = new Set<(session: Session) => void>();

  constructor(private readonly opts: SessionStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.maxSessions = opts.maxSessions ?? 10_000;
  }

  create(user: ConsoleUser): Session {
    this.sweep();
    const at = this.now();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      user,
      createdAt: at,
      expiresAt: at + this.opts.ttlMs,
    };
    this.sessions.set(session.id, session);
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.end(oldest);
    }
    return session;
  }

  /** The live session with this id; an expired one is removed and undefined. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (this.now() >= s.expiresAt) {
      this.end(id);
      return undefined;
    }
    return s;
  }

  /** Ends a session (logout); true when it existed. */
  end(id: string): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    for (const fn of this.ended) fn(s);
    return true;
  }

  /** Calls `fn` whenever a session ends (logout, expiry, eviction): open event streams close with it. */
  onEnd(fn: (session: Session) => void): () => void {
    this.ended.add(fn);
    return () => this.ended.delete(fn);
  }

  /** Drops expired sessions. */
  sweep(): void {
    const at = this.now();
    for (const [id, s] of this.sessions) if (at >= s.expiresAt) this.end(id);
  }

  /** Sessions not yet expired. */
  get activeCount(): number {
    this.sweep();
    return this.sessions.size;
  }
}
