/**
 * PullPoint subscriptions of the simulated camera (domain 5-onvif.md §5.5): each has a bounded
 * message queue and a termination time; PullMessages long-polls until a message is queued or its
 * timeout runs out (an instant empty reply would make clients spin PullMessages/Renew).
 */
import type { Clock } from '../../drivers/sdk/clock.js';

const QUEUE_LIMIT = 100;

interface Waiter {
  resolve: (messages: string[] | undefined) => void;
  limit: number;
  timer: NodeJS.Timeout;
}

interface Subscription {
  termination: number;
  queue: string[];
  waiter?: Waiter;
}

export interface PullPointStats {
  created: number;
  renewed: number;
  pulls: number;
  unsubscribed: number;
  expired: number;
}

export class PullPoints {
  private readonly subs = new Map<string, Subscription>();
  private nextId = 1;
  readonly stats: PullPointStats = { created: 0, renewed: 0, pulls: 0, unsubscribed: 0, expired: 0 };

  constructor(
    private readonly clock: Clock,
    /** Cap on how long one PullMessages is held, whatever the client asks (tests keep it short). */
    private readonly maxHoldMs: number,
  ) {}

  get size(): number {
    return this.subs.size;
  }

  create(termination: number, initial: readonly string[]): string {
    const id = `${this.nextId++}-${Math.random().toString(36).slice(2, 8)}`;
    this.subs.set(id, { termination, queue: [...initial] });
    this.stats.created++;
    return id;
  }

  /** The live subscription, or undefined when it is unknown or past its termination time (then it is dropped). */
  private live(id: string): Subscription | undefined {
    const sub = this.subs.get(id);
    if (!sub) return undefined;
    if (this.clock.now() > sub.termination) {
      this.drop(id, sub);
      this.stats.expired++;
      return undefined;
    }
    return sub;
  }

  terminationOf(id: string): number | undefined {
    return this.live(id)?.termination;
  }

  renew(id: string, termination: number): boolean {
    const sub = this.live(id);
    if (!sub) return false;
    sub.termination = termination;
    this.stats.renewed++;
    return true;
  }

  unsubscribe(id: string): boolean {
    const sub = this.live(id);
    if (!sub) return false;
    this.drop(id, sub);
    this.stats.unsubscribed++;
    return true;
  }

  /**
   * Up to `limit` messages; waits up to `timeoutMs` (capped) for the first one. Undefined when the
   * subscription is unknown or expired. A second pull on the same subscription ends the first (empty).
   */
  pull(id: string, timeoutMs: number, limit: number): Promise<string[] | undefined> {
    const sub = this.live(id);
    if (!sub) return Promise.resolve(undefined);
    this.stats.pulls++;
    if (sub.queue.length > 0) return Promise.resolve(sub.queue.splice(0, limit));
    if (sub.waiter) this.wake(sub, []);
    const hold = Math.max(0, Math.min(timeoutMs, this.maxHoldMs, sub.termination - this.clock.now()));
    return new Promise((resolve) => {
      sub.waiter = { resolve, limit, timer: setTimeout(() => this.wake(sub, []), hold) };
    });
  }

  /** Queues a notification on every subscription and wakes their waiting pulls. */
  publish(message: string): void {
    for (const [id, sub] of this.subs) {
      if (!this.live(id)) continue;
      if (sub.waiter) {
        this.wake(sub, [message]);
        continue;
      }
      sub.queue.push(message);
      if (sub.queue.length > QUEUE_LIMIT) sub.queue.shift();
    }
  }

  /** Forgets every subscription (a reboot); waiting pulls get "unknown". */
  clear(): void {
    for (const [id, sub] of this.subs) this.drop(id, sub);
  }

  private drop(id: string, sub: Subscription): void {
    if (sub.waiter) {
      clearTimeout(sub.waiter.timer);
      sub.waiter.resolve(undefined);
      sub.waiter = undefined;
    }
    this.subs.delete(id);
  }

  private wake(sub: Subscription, messages: string[]): void {
    const w = sub.waiter;
    if (!w) return;
    sub.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(messages.slice(0, w.limit));
  }
}
