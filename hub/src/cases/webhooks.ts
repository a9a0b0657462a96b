/**
 * Signed webhooks on case dispatch, overdue and close (issue 7).
 *
 * A notification is written to the outbox table of cases.db in the same transaction as the case
 * change (CaseService `notify`), so a change that was saved is never left unannounced, and a
 * pending notification survives a restart. The delivery loop POSTs each due one with
 *
 *   X-Citygrid-Signature: sha256=<hex HMAC-SHA256 of the raw body with the target's secret>
 *   X-Citygrid-Delivery:  <notification id> (a receiver drops a repeat by it: delivery is at least once)
 *
 * deletes it on a 2xx, and otherwise tries again after a capped exponential backoff, forever.
 * The secret is read from the config at each attempt; it is never written to cases.db.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { WebhookConfig } from '../../../config/schema/hub.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { isOpen } from './model.js';
import type { CaseChange } from './service.js';
import type { CaseStore, OutboxEntry } from './store.js';

export type WebhookEvent = WebhookConfig['events'][number];

export const SIGNATURE_HEADER = 'x-citygrid-signature';
export const DELIVERY_HEADER = 'x-citygrid-delivery';
/** First retry after this long; doubled per failed attempt up to MAX. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Notifications sent per turn of the loop (one at a time, in order). */
const BATCH = 50;

/** `sha256=<hex>` of the HMAC-SHA256 of the raw body. */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Wait before the next attempt after `attempts` failed ones (1 -> base, 2 -> 2 base, … capped). */
export function backoffMs(attempts: number, baseMs = BACKOFF_BASE_MS, maxMs = BACKOFF_MAX_MS): number {
  const exp = Math.min(Math.max(attempts - 1, 0), 30);
  return Math.min(maxMs, baseMs * 2 ** exp);
}

/** The webhook event of a change, if it is one: dispatch, a stage marked overdue, or a case ended. */
export function eventOf(change: CaseChange): WebhookEvent | undefined {
  if (change.effect === 'dispatch') return 'dispatched';
  if (change.effect === 'mark_overdue') return 'overdue';
  // Ended by a workflow action (pass -> closed, reject -> not_filed); evaluating a closed case is not a new close.
  const ended = ['opened', 'joined', 'noted', 'evaluate'].includes(change.effect) ? false : !isOpen(change.case.state);
  return ended ? 'closed' : undefined;
}

/** The case without its history (the GET /api/cases/<id> record has it). */
function summary(c: CaseChange['case']): Record<string, unknown> {
  const { history, ...rest } = c;
  return { ...rest, historyLength: history.length };
}

/** The outbox entries of some changes: one per change and target subscribed to its event. */
export function notificationsFor(
  targets: readonly WebhookConfig[],
  changes: readonly CaseChange[],
  now: number,
): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  if (targets.length === 0) return out;
  for (const change of changes) {
    const event = eventOf(change);
    if (!event) continue;
    for (const t of targets) {
      if (!t.events.includes(event)) continue;
      const id = randomUUID();
      const body = JSON.stringify({ id, event, caseId: change.case.id, case: summary(change.case), at: now });
      out.push({ id, url: t.url, event, caseId: change.case.id, body, attempts: 0, nextAt: now });
    }
  }
  return out;
}

export interface WebhookDeliveryOptions {
  store: CaseStore;
  targets: readonly WebhookConfig[];
  log: Logger;
  metrics: MetricsRegistry;
  now?: () => number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/** The delivery loop over the outbox. */
export class WebhookDelivery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly now: () => number;
  private readonly deliveries;

  constructor(private readonly o: WebhookDeliveryOptions) {
    this.now = o.now ?? Date.now;
    this.deliveries = o.metrics.counter(
      'citygrid_cases_webhook_deliveries_total',
      'Case webhook delivery attempts by event and result (ok: a 2xx; failed: any other answer or no answer, retried with backoff).',
    );
    o.metrics.gauge(
      'citygrid_cases_webhook_pending',
      'Case webhook notifications in the outbox, not yet delivered.',
      (g) => {
        if (!this.closed) g.set({}, o.store.pendingDeliveries());
      },
    );
  }

  /** Sends what is due now, then again when the next one is due (or on `kick`). */
  start(): void {
    this.kick();
  }

  /** New notifications were saved: send them now. */
  kick(): void {
    if (this.closed) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.schedule();
    });
  }

  private again = false;

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.closed) return;
    const next = this.o.store.nextDeliveryAt();
    if (next === undefined) return;
    const wait = Math.min(Math.max(next - this.now(), 0), BACKOFF_MAX_MS);
    this.timer = setTimeout(() => this.kick(), wait);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const due = this.o.store.dueDeliveries(this.now(), BATCH);
      if (due.length === 0) return;
      for (const n of due) {
        if (this.closed) return;
        await this.deliver(n);
      }
    }
  }

  private async deliver(n: OutboxEntry): Promise<void> {
    const target = this.o.targets.find((t) => t.url === n.url);
    const log = this.o.log.child({ delivery: n.id, case: n.caseId, event: n.event, url: n.url });
    if (!target) {
      // The target was removed from the config: nobody to send it to any more.
      this.o.store.deleteDelivery(n.id);
      this.deliveries.inc({ event: n.event, result: 'dropped' });
      log.warn('Webhook target no longer configured; notification dropped');
      return;
    }
    let error: string;
    try {
      const res = await fetch(n.url, {
        method: 'POST',
        body: n.body,
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: sign(target.secret, n.body),
          [DELIVERY_HEADER]: n.id,
        },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        if (this.closed) return;
        this.o.store.deleteDelivery(n.id);
        this.deliveries.inc({ event: n.event, result: 'ok' });
        log.info({ attempts: n.attempts + 1 }, 'Webhook delivered');
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    if (this.closed) return;
    const attempts = n.attempts + 1;
    const wait = backoffMs(attempts, this.o.backoffBaseMs, this.o.backoffMaxMs);
    this.o.store.retryDelivery(n.id, attempts, this.now() + wait, error);
    this.deliveries.inc({ event: n.event, result: 'failed' });
    log.warn({ attempts, err: error, retryInMs: wait }, 'Webhook delivery failed; retrying');
  }
}
