/**
 * What the outbox had to thin, per device, until it is reported to the hub as an `outbox.loss`
 * Event. Losses caused by the quota policy are written in the same transaction that deleted the
 * rows (a rolled-back compaction lost nothing); losses caused by a failed write (full disk) are
 * remembered in memory and written with the next commit that succeeds.
 */
import type Database from 'libsql';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { CityEvent } from '../../drivers/sdk/reading.js';

export interface LossDelta {
  /** Raw readings folded into compacted ones. */
  compacted: number;
  /** Readings gone without a trace (a dropped compacted row counts its samples). */
  dropped: number;
  eventsDropped: number;
  /** Evidence items gone (the last resort of the quota policy, or a failed write). */
  mediaDropped?: number;
  /** Reading/event timestamps (ms) of the first and last affected item. */
  from: number;
  to: number;
}

export type LossReason = 'quota' | 'disk-full' | 'write-error';

export const LOSS_EVENT_TYPE = 'outbox.loss';

export const LOSS_TABLE = `
CREATE TABLE IF NOT EXISTS loss (
  device TEXT PRIMARY KEY,
  compacted INTEGER NOT NULL,
  dropped INTEGER NOT NULL,
  events_dropped INTEGER NOT NULL,
  media_dropped INTEGER NOT NULL DEFAULT 0,
  from_ts INTEGER NOT NULL,
  to_ts INTEGER NOT NULL
);`;

function merge(into: LossDelta, d: LossDelta): void {
  into.compacted += d.compacted;
  into.dropped += d.dropped;
  into.eventsDropped += d.eventsDropped;
  into.mediaDropped = (into.mediaDropped ?? 0) + (d.mediaDropped ?? 0);
  into.from = Math.min(into.from, d.from);
  into.to = Math.max(into.to, d.to);
}

export class LossLedger {
  private unsaved = new Map<string, LossDelta>();
  private persisted: boolean;
  private readonly upsert: Database.Statement;
  private readonly selectAll: Database.Statement;
  private readonly deleteAll: Database.Statement;
  private readonly compactedTotal;
  private readonly droppedTotal;

  constructor(db: Database.Database, metrics: MetricsRegistry) {
    // Outboxes written before evidence existed have no media_dropped column.
    const columns = db.prepare('PRAGMA table_info(loss)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'media_dropped'))
      db.exec('ALTER TABLE loss ADD COLUMN media_dropped INTEGER NOT NULL DEFAULT 0');
    this.upsert = db.prepare(
      `INSERT INTO loss (device, compacted, dropped, events_dropped, media_dropped, from_ts, to_ts)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device) DO UPDATE SET compacted = compacted + excluded.compacted,
         dropped = dropped + excluded.dropped, events_dropped = events_dropped + excluded.events_dropped,
         media_dropped = media_dropped + excluded.media_dropped,
         from_ts = min(from_ts, excluded.from_ts), to_ts = max(to_ts, excluded.to_ts)`,
    );
    this.selectAll = db.prepare('SELECT * FROM loss ORDER BY device');
    this.deleteAll = db.prepare('DELETE FROM loss');
    this.persisted = (db.prepare('SELECT count(*) AS n FROM loss').get() as { n: number }).n > 0;
    this.compactedTotal = metrics.counter(
      'citygrid_edge_outbox_compacted_total',
      'Readings folded into compacted readings because the outbox neared its quota, by device.',
    );
    this.droppedTotal = metrics.counter(
      'citygrid_edge_outbox_dropped_total',
      'Readings, events and evidence items the outbox gave up (quota, full disk, write error), by device, type and reason.',
    );
  }

  /** Inside a transaction: adds losses to the table. Count them with `count` once it committed. */
  write(device: string, delta: LossDelta): void {
    this.upsert.run(
      device,
      delta.compacted,
      delta.dropped,
      delta.eventsDropped,
      delta.mediaDropped ?? 0,
      delta.from,
      delta.to,
    );
    this.persisted = true;
  }

  /** Counts losses in the metrics (after they happened for good). */
  count(device: string, delta: LossDelta, reason: LossReason): void {
    if (delta.compacted > 0) this.compactedTotal.inc({ device }, delta.compacted);
    if (delta.dropped > 0) this.droppedTotal.inc({ device, type: 'reading', reason }, delta.dropped);
    if (delta.eventsDropped > 0) this.droppedTotal.inc({ device, type: 'event', reason }, delta.eventsDropped);
    if ((delta.mediaDropped ?? 0) > 0) this.droppedTotal.inc({ device, type: 'media', reason }, delta.mediaDropped);
  }

  /** Items that never reached the disk: counted now, written with the next successful commit. */
  remember(device: string, delta: LossDelta, reason: LossReason): void {
    this.count(device, delta, reason);
    const held = this.unsaved.get(device);
    if (held) merge(held, delta);
    else this.unsaved.set(device, { ...delta });
  }

  /**
   * Inside a commit transaction: writes the remembered losses. Returns what to call once the
   * transaction committed (they are then forgotten from memory).
   */
  writeRemembered(): () => void {
    if (this.unsaved.size === 0) return () => {};
    const written = this.unsaved;
    for (const [device, delta] of written) this.write(device, delta);
    return () => {
      if (this.unsaved === written) this.unsaved = new Map();
    };
  }

  /** True when losses wait to be reported. */
  pending(): boolean {
    return this.persisted || this.unsaved.size > 0;
  }

  /** Inside a transaction: the recorded losses as events, and clears the table. */
  drainAsEvents(now: number): CityEvent[] {
    const rows = this.selectAll.all() as {
      device: string;
      compacted: number;
      dropped: number;
      events_dropped: number;
      media_dropped: number;
      from_ts: number;
      to_ts: number;
    }[];
    this.deleteAll.run();
    return rows.map((r) => ({
      type: LOSS_EVENT_TYPE,
      severity: 'warning' as const,
      device: r.device,
      ts: now,
      data: {
        device: r.device,
        compacted: r.compacted,
        dropped: r.dropped,
        ...(r.events_dropped > 0 ? { eventsDropped: r.events_dropped } : {}),
        ...(r.media_dropped > 0 ? { mediaDropped: r.media_dropped } : {}),
        from: r.from_ts,
        to: r.to_ts,
      },
    }));
  }

  /** After drainAsEvents committed. */
  drained(): void {
    this.persisted = false;
  }
}
