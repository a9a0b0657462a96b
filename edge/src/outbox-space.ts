/**
 * The outbox's room on disk: the bytes it holds (each item and message row counted with
 * ROW_OVERHEAD on top of its body) against its quota. Above HIGH_WATER of the quota the policy
 * (outbox-quota.ts) frees room down to LOW_WATER. A full disk means the real disk is smaller than
 * the quota says: the effective quota drops below what fits now. Write failures are counted by
 * reason and logged at most every 10 s; the outbox keeps what is stored and goes on.
 */
import type Database from 'libsql';
import type { Clock } from '../../drivers/sdk/clock.js';
import { describeError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { LossReason } from './loss-ledger.js';
import { type QuotaKeeper, ROW_OVERHEAD } from './outbox-quota.js';
import { isDiskFull } from './outbox-store.js';

/** Above this share of the quota the policy runs; it frees room down to LOW_WATER. */
export const HIGH_WATER = 0.9;
export const LOW_WATER = 0.8;

export class OutboxSpace {
  /** Bytes held (see ROW_OVERHEAD). */
  held = 0;
  /** The real disk turned out smaller than the quota: the policy aims below this. */
  private effectiveQuota: number;
  private lastFailureLog = 0;
  private readonly writeFailures;

  constructor(
    quota: number,
    private readonly clock: Clock,
    private readonly log: Logger,
    metrics: MetricsRegistry,
  ) {
    this.effectiveQuota = quota;
    this.writeFailures = metrics.counter(
      'citygrid_edge_outbox_write_failures_total',
      'Outbox writes that failed, by reason (disk-full, write-error).',
    );
    metrics.gauge('citygrid_edge_outbox_quota_bytes', 'Bytes the outbox may hold (lowered after a full disk).', (g) =>
      g.set({}, this.effectiveQuota),
    );
  }

  /** Counts what the item and message tables hold (at open). */
  measure(db: Database.Database): void {
    const sums = (table: string) =>
      db
        .prepare(`SELECT coalesce(sum(bytes), 0) + count(*) * ${ROW_OVERHEAD} FROM ${table}`)
        .pluck()
        .all()[0] as number;
    this.held = sums('item') + sums('message');
  }

  /** True when the quota policy should run. */
  overHighWater(): boolean {
    return this.held > this.effectiveQuota * HIGH_WATER;
  }

  /** Frees room down to LOW_WATER of the effective quota; a failure is handled like a write failure. */
  shrink(keeper: QuotaKeeper): void {
    try {
      keeper.shrink(
        () => this.held,
        Math.floor(this.effectiveQuota * LOW_WATER),
        (freed) => {
          this.held -= freed;
        },
      );
    } catch (err) {
      this.writeFailed(err, 0);
    }
  }

  /** Counts and (at most every 10 s) logs a failed write of `items` items; returns why it failed. */
  writeFailed(err: unknown, items: number): LossReason {
    const reason: LossReason = isDiskFull(err) ? 'disk-full' : 'write-error';
    this.writeFailures.inc({ reason });
    if (reason === 'disk-full') {
      // The disk is smaller than the quota says: aim below what fits now.
      const fits = Math.floor(this.held * LOW_WATER);
      if (fits < this.effectiveQuota) this.effectiveQuota = Math.max(fits, ROW_OVERHEAD * 16);
    }
    const now = this.clock.now();
    if (now - this.lastFailureLog > 10_000) {
      this.lastFailureLog = now;
      this.log.error(
        { err: describeError(err), reason, items, held: this.held, quota: this.effectiveQuota },
        'Outbox write failed; keeping what is stored and going on',
      );
    }
    return reason;
  }
}
