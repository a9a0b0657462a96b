/**
 * The PullPoint loop: create a subscription, long-poll PullMessages, Renew after every pull (so
 * the subscription never reaches its termination time while we hold it), and on any failure (the
 * camera rebooted and forgot us, or is gone) report the camera offline once, back off, and create
 * a new subscription; the first success after that reports it online again.
 */
import type { Logger } from '../sdk/log.js';
import { CameraError, classifyOnvifError } from './errors.js';
import { type MappedEvent, mapNotification } from './event-map.js';
import type { OnvifClient } from './onvif-client.js';

export interface EventLoopDeps {
  client: OnvifClient;
  log: Logger;
  emit(event: MappedEvent): void;
  setOnline(online: boolean, reason?: string): void;
  countError(code: string): void;
  /** Backoff between attempts after a failure, ms: from `min`, doubling up to `max`. */
  retry: { min: number; max: number };
}

export interface EventLoopStats {
  subscriptions: number;
  pulls: number;
  renewals: number;
  failures: number;
  notifications: number;
}

/** A pull answered this fast with nothing is a camera that does not long-poll: pace it. */
const MIN_PULL_INTERVAL_MS = 200;

export class PullPointLoop {
  readonly stats: EventLoopStats = { subscriptions: 0, pulls: 0, renewals: 0, failures: 0, notifications: 0 };
  private running = false;
  private done: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  /** Settles when stop() is called: a request the camera holds must not hold up the stop. */
  private stopping: Promise<void> = new Promise(() => undefined);
  private signalStop: () => void = () => undefined;

  constructor(private readonly deps: EventLoopDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new Promise((resolve) => {
      this.signalStop = resolve;
    });
    this.done = this.run();
  }

  /** Stops the loop; the caller aborts the request in flight (client.destroy or unsubscribe). */
  async stop(): Promise<void> {
    this.running = false;
    this.signalStop();
    this.wake?.();
    await this.done;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { client, log } = this.deps;
    let subscribed = false;
    let offline = false;
    let delay = this.deps.retry.min;
    while (this.running) {
      try {
        if (!subscribed) {
          client.dropSubscription();
          await Promise.race([client.createPullPoint(), this.stopping]);
          if (!this.running) break;
          subscribed = true;
          this.stats.subscriptions++;
          delay = this.deps.retry.min;
          this.deps.setOnline(true);
          offline = false;
          log.debug('Event subscription created');
        }
        const started = Date.now();
        const messages = await Promise.race([client.pullMessages(), this.stopping.then(() => [])]);
        this.stats.pulls++;
        if (!this.running) break;
        for (const m of messages) {
          const event = mapNotification(m);
          if (!event) continue;
          this.stats.notifications++;
          this.deps.emit(event);
        }
        await Promise.race([client.renew(), this.stopping]);
        this.stats.renewals++;
        if (messages.length === 0 && Date.now() - started < MIN_PULL_INTERVAL_MS)
          await this.sleep(MIN_PULL_INTERVAL_MS);
      } catch (err) {
        if (!this.running) break;
        const e = err instanceof CameraError ? err : classifyOnvifError(err);
        this.stats.failures++;
        if (subscribed) log.warn({ code: e.code, reason: e.message }, 'Event subscription lost');
        this.deps.countError(e.code);
        // once per outage, not once per attempt
        if (!offline) this.deps.setOnline(false, `${e.code}: ${e.message}`);
        offline = true;
        subscribed = false;
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.deps.retry.max);
      }
    }
  }
}
