/**
 * The outbox's disk policy. When the bytes held pass the high-water mark, it frees room down to
 * the low-water mark, in this order, oldest first at every step:
 *
 * 1. compact telemetry not yet composed into messages, window by window (finest first): the
 *    readings of one device in one window become one compacted reading (compaction.ts);
 * 2. drop the oldest telemetry (raw or compacted);
 * 3. only when no telemetry is left, drop the oldest evidence items (never compacted: a photo is
 *    kept whole or not at all; one clip frees more than thousands of events would);
 * 4. only when no evidence is left either, drop the oldest events.
 *
 * Composed messages are never touched: their content is promised to the hub under their seq.
 * Every step is one transaction that also records the loss per device (loss-ledger.ts).
 */
import type Database from 'libsql';
import type { Logger } from '../../drivers/sdk/log.js';
import type { CityEvent, Reading } from '../../drivers/sdk/reading.js';
import { compactReadings, sampleCount, windowKey } from './compaction.js';
import type { LossDelta, LossLedger } from './loss-ledger.js';
import { inTransaction } from './outbox-store.js';

/** Bytes a stored row costs beyond its body (row header, columns, index entry), for the quota. */
export const ROW_OVERHEAD = 64;
/** Rows read per compaction or drop step. */
const CHUNK = 2000;

export const ITEM_READING = 0;
export const ITEM_EVENT = 1;
/** Evidence: never compacted; dropped after all telemetry, before events. */
export const ITEM_MEDIA = 2;

interface ItemRow {
  id: number;
  device: string;
  ts: number;
  at: number;
  win: number;
  n: number;
  bytes: number;
  body: string;
}

export interface ShrinkResult {
  freed: number;
  compacted: number;
  dropped: number;
  eventsDropped: number;
  mediaDropped: number;
}

/** Evidence rows read per drop step (they are big; their bodies are not read). */
const MEDIA_CHUNK = 16;

function newDelta(ts: number): LossDelta {
  return { compacted: 0, dropped: 0, eventsDropped: 0, from: ts, to: ts };
}

function addTo(map: Map<string, LossDelta>, device: string, ts: number, change: Partial<LossDelta>): void {
  let d = map.get(device);
  if (!d) {
    d = newDelta(ts);
    map.set(device, d);
  }
  d.compacted += change.compacted ?? 0;
  d.dropped += change.dropped ?? 0;
  d.eventsDropped += change.eventsDropped ?? 0;
  if (change.mediaDropped) d.mediaDropped = (d.mediaDropped ?? 0) + change.mediaDropped;
  d.from = Math.min(d.from, ts);
  d.to = Math.max(d.to, ts);
}

export class QuotaKeeper {
  private readonly selectForCompaction: Database.Statement;
  private readonly selectOldest: Database.Statement;
  private readonly selectOldestMedia: Database.Statement;
  private readonly deleteItem: Database.Statement;
  private readonly insertCompacted: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly ledger: LossLedger,
    private readonly windows: readonly number[],
    private readonly log: Logger,
  ) {
    this.selectForCompaction = db.prepare(
      'SELECT id, device, ts, at, win, n, bytes, body FROM item WHERE kind = 0 AND win < ? AND id > ? ORDER BY id LIMIT ?',
    );
    this.selectOldest = db.prepare(
      'SELECT id, device, ts, at, win, n, bytes, body FROM item WHERE kind = ? ORDER BY id LIMIT ?',
    );
    this.selectOldestMedia = db.prepare(
      'SELECT id, device, ts, at, win, n, bytes, NULL AS body FROM item WHERE kind = ? ORDER BY id LIMIT ?',
    );
    this.deleteItem = db.prepare('DELETE FROM item WHERE id = ?');
    this.insertCompacted = db.prepare(
      'INSERT INTO item (id, kind, device, ts, at, win, n, bytes, body) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /**
   * Frees room until `held() <= target`. `held` reports the bytes held now; `release` is told the
   * bytes freed by each committed step. Throws only what the database throws.
   */
  shrink(held: () => number, target: number, release: (bytes: number) => void): ShrinkResult {
    const result: ShrinkResult = { freed: 0, compacted: 0, dropped: 0, eventsDropped: 0, mediaDropped: 0 };
    const step = (freed: number, losses: Map<string, LossDelta>) => {
      release(freed);
      result.freed += freed;
      for (const [device, d] of losses) {
        this.ledger.count(device, d, 'quota');
        result.compacted += d.compacted;
        result.dropped += d.dropped;
        result.eventsDropped += d.eventsDropped;
        result.mediaDropped += d.mediaDropped ?? 0;
      }
    };
    for (const windowMs of this.windows) {
      let after = 0;
      while (held() > target) {
        const rows = this.selectForCompaction.all(Math.round(windowMs / 1000), after, CHUNK) as ItemRow[];
        if (rows.length === 0) break;
        after = (rows[rows.length - 1] as ItemRow).id;
        const losses = new Map<string, LossDelta>();
        const freed = inTransaction(this.db, () => this.compactChunk(rows, windowMs, held() - target, losses));
        step(freed, losses);
      }
    }
    for (const kind of [ITEM_READING, ITEM_MEDIA, ITEM_EVENT]) {
      while (held() > target) {
        const rows = (
          kind === ITEM_MEDIA ? this.selectOldestMedia.all(kind, MEDIA_CHUNK) : this.selectOldest.all(kind, CHUNK)
        ) as ItemRow[];
        if (rows.length === 0) break;
        const losses = new Map<string, LossDelta>();
        const freed = inTransaction(this.db, () => {
          let bytes = 0;
          for (const row of rows) {
            if (held() - bytes <= target) break;
            this.deleteItem.run(row.id);
            bytes += row.bytes + ROW_OVERHEAD;
            const ts = kind === ITEM_EVENT ? (JSON.parse(row.body) as CityEvent).ts : row.ts;
            const change =
              kind === ITEM_EVENT
                ? { eventsDropped: 1 }
                : kind === ITEM_MEDIA
                  ? { mediaDropped: 1 }
                  : { dropped: row.n };
            addTo(losses, row.device, ts, change);
          }
          for (const [device, d] of losses) this.ledger.write(device, d);
          return bytes;
        });
        step(freed, losses);
      }
    }
    if (result.freed > 0) {
      const gone = result.dropped + result.eventsDropped + result.mediaDropped;
      const level = gone > 0 ? 'warn' : 'info';
      this.log[level](
        { ...result, held: held(), target },
        gone > 0 ? 'Outbox quota: oldest telemetry dropped' : 'Outbox quota: oldest telemetry compacted',
      );
    }
    return result;
  }

  /**
   * Replaces window groups of two or more rows by one compacted row each, oldest group first,
   * until `needed` bytes are freed; returns the bytes freed.
   */
  private compactChunk(rows: ItemRow[], windowMs: number, needed: number, losses: Map<string, LossDelta>): number {
    const groups = new Map<string, { rows: ItemRow[]; readings: Reading[] }>();
    for (const row of rows) {
      const reading = JSON.parse(row.body) as Reading;
      const key = windowKey(reading, windowMs);
      const group = groups.get(key);
      if (group) {
        group.rows.push(row);
        group.readings.push(reading);
      } else groups.set(key, { rows: [row], readings: [reading] });
    }
    let freed = 0;
    for (const { rows: members, readings } of groups.values()) {
      if (freed >= needed) break;
      if (members.length < 2) continue;
      const compacted = compactReadings(readings, windowMs);
      const body = JSON.stringify(compacted);
      const bytes = Buffer.byteLength(body);
      const before = members.reduce((sum, row) => sum + row.bytes + ROW_OVERHEAD, 0);
      // A few samples with many fields summarise into more bytes than they take: leave them be.
      if (bytes + ROW_OVERHEAD >= before) continue;
      let firstId = Number.POSITIVE_INFINITY;
      let firstAt = Number.POSITIVE_INFINITY;
      let raw = 0;
      for (const row of members) {
        this.deleteItem.run(row.id);
        firstId = Math.min(firstId, row.id);
        firstAt = Math.min(firstAt, row.at);
        if (row.win === 0) raw += 1;
      }
      // The compacted row takes the place of the group's oldest row: the arrival order is kept.
      this.insertCompacted.run(
        firstId,
        compacted.device,
        compacted.ts,
        firstAt,
        Math.round(windowMs / 1000),
        sampleCount(compacted),
        bytes,
        body,
      );
      freed += before - (bytes + ROW_OVERHEAD);
      const first = readings.reduce((m, r) => Math.min(m, r.ts), Number.POSITIVE_INFINITY);
      addTo(losses, compacted.device, first, { compacted: raw });
      addTo(losses, compacted.device, compacted.ts, {});
    }
    for (const [device, d] of losses) this.ledger.write(device, d);
    return freed;
  }
}
