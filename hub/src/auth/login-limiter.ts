/**
 * Login rate limit: failed attempts per key (a username, a client address) in a sliding window
 * of one minute. A key at its limit is refused before the password is checked, so guessing costs
 * the attacker a minute per `limit` tries per username and per address, and the hub no scrypt
 * work. Keys with no recent failure are forgotten, so the map stays bounded by the failures of
 * the last minute.
 */
const WINDOW_MS = 60_000;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(
    private readonly limit: number,
    now?: () => number,
  ) {
    this.now = now ?? Date.now;
  }

  /** Seconds until every key may try again; 0 when none of them is at its limit. */
  blockedFor(keys: readonly string[]): number {
    const at = this.now();
    let wait = 0;
    for (const key of keys) {
      const recent = this.recent(key, at);
      if (recent.length >= this.limit) wait = Math.max(wait, (recent[0] as number) + WINDOW_MS - at);
    }
    return Math.ceil(wait / 1000);
  }

  fail(keys: readonly string[]): void {
    const at = this.now();
    for (const key of keys) this.failures.set(key, [...this.recent(key, at), at]);
    if (this.failures.size > 10_000) this.prune(at);
  }

  /** A successful login clears its username's failures (not the address's: one address may try many names). */
  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, at: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => t > at - WINDOW_MS);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  private prune(at: number): void {
    for (const key of [...this.failures.keys()]) this.recent(key, at);
  }
}
