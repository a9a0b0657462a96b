/**
 * The durable outbox: one SQLite file (libsql, WAL, synchronous=FULL) in the gateway's data dir.
 *
 * - `item`: every Reading, Event and evidence item (a media frame, stored as a BLOB), appended in arrival order by a group commit every
 *   `commitInterval` ms: a reading is *taken* once that commit (with its fsync) returned, so a
 *   SIGKILL or a power cut loses at most the last few ms, never anything taken.
 * - `message`: composed uplink messages. Composing moves items into a message body and assigns the
 *   boot's next seq in ONE transaction, before the message is sent; a replay after a crash sends
 *   the same (bootId, seq) with the same content, so the hub drops it if it already stored it.
 *   Their in-memory index is outbox-messages.ts.
 * - `boot`: the next seq of each boot that still has messages; earlier boots are replayed under
 *   their own id and acknowledged separately.
 * - `loss`: thinning not reported yet (loss-ledger.ts). The quota policy is in outbox-quota.ts, the
 *   bytes held against the quota and write failures in outbox-space.ts.
 * - `taken`: per device and kind, how many items were ever taken and their ts range, committed
 *   with the items and never deleted (an audit ledger, outbox-store.ts).
 *
 * Acks delete with synchronous=NORMAL (no fsync of their own; the next FULL commit carries them):
 * losing an ack's delete in a power cut only means a re-send the hub drops as a duplicate.
 * See the edge README section "Durable outbox" for why SQLite and the measured rates.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import type { Clock } from '../../drivers/sdk/clock.js';
import { describeError, StartupError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { CityEvent, Reading } from '../../drivers/sdk/reading.js';
import { LossLedger, type LossReason } from './loss-ledger.js';
import type { ComposePlan, Outbox, OutboxMessage, OutboxStats } from './outbox.js';
import { type Composed, composeMessages } from './outbox-composer.js';
import { MessageBook } from './outbox-messages.js';
import { ITEM_EVENT, ITEM_MEDIA, ITEM_READING, QuotaKeeper, ROW_OVERHEAD } from './outbox-quota.js';
import { OutboxSpace } from './outbox-space.js';
import {
  inTransaction,
  type Lanes,
  type OutboxStatements,
  type Pending,
  prepareStatements,
  SCHEMA,
  scalar,
  tallyTaken,
} from './outbox-store.js';

export const OUTBOX_FILE = 'outbox.db';

export interface DiskOutboxOptions {
  /** SQLite file (created with its directory), or ':memory:' in unit tests of other modules. */
  file: string;
  bootId: string;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** Items per message at most. */
  maxReadings: number;
  /** ms a live reading may wait for others to share its message. */
  maxDelay: number;
  /** Bytes held at most (see ROW_OVERHEAD). */
  quota: number;
  /** Compaction windows in ms, finest first. */
  compactWindows: readonly number[];
  /** Group commit interval, ms. */
  commitInterval: number;
  /** Body bytes of one message at most. Default 2 MiB (half the hub's payload limit). */
  maxMessageBytes?: number;
  /** Tests: SQLite reports a full disk beyond this many pages (PRAGMA max_page_count). */
  maxPages?: number;
}

export { HIGH_WATER, LOW_WATER } from './outbox-space.js';

/** Items taken at once beyond which a commit does not wait for its timer. */
const COMMIT_AT_ITEMS = 2000;

export class DiskOutbox implements Outbox {
  readonly bootId: string;
  private readonly db: Database.Database;
  private readonly o: DiskOutboxOptions;
  private readonly ledger: LossLedger;
  private readonly quotaKeeper: QuotaKeeper;
  private readonly stmt: OutboxStatements;
  /** Writes a batch in one transaction; returns what to call once it committed. */
  private readonly commitBatch: (batch: Pending[]) => () => void;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly messages = new MessageBook();
  private nextSeq = 0;
  /** Bytes held against the quota; write failures. */
  private readonly space: OutboxSpace;
  private lanes: Lanes = { backlogEnd: 0, backlog: 0, live: 0, liveOldestAt: undefined, events: 0, media: 0 };
  private readonly listeners: (() => void)[] = [];
  private closed = false;
  private readonly taken;
  private readonly commits;

  private constructor(db: Database.Database, o: DiskOutboxOptions) {
    this.db = db;
    this.o = o;
    this.bootId = o.bootId;
    const m = o.metrics;
    this.taken = m.counter('citygrid_edge_outbox_taken_total', 'Readings and events committed to disk, by type.');
    this.commits = m.counter('citygrid_edge_outbox_commits_total', 'Group commits of the outbox (one fsync each).');
    this.space = new OutboxSpace(o.quota, o.clock, o.log, m);
    this.ledger = new LossLedger(db, m);
    this.quotaKeeper = new QuotaKeeper(db, this.ledger, o.compactWindows, o.log);
    this.stmt = prepareStatements(db);
    const { insertItem, countTaken } = this.stmt;
    this.commitBatch = (batch: Pending[]) =>
      inTransaction(db, () => {
        for (const p of batch) insertItem.run(p.kind, p.device, p.ts, p.at, Buffer.byteLength(p.body), p.body);
        for (const t of tallyTaken(batch)) countTaken.run(t.device, t.kind, t.n, t.minTs, t.maxTs);
        return this.ledger.writeRemembered();
      });
  }

  /** Opens (or creates) the outbox and loads what an earlier boot left. Throws StartupError. */
  static open(o: DiskOutboxOptions): DiskOutbox {
    let db: Database.Database | undefined;
    try {
      if (o.file !== ':memory:') mkdirSync(dirname(o.file), { recursive: true });
      db = new Database(o.file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('journal_size_limit = 8388608');
      if (o.maxPages) db.pragma(`max_page_count = ${o.maxPages}`);
      db.exec(SCHEMA);
      const box = new DiskOutbox(db, o);
      box.load();
      return box;
    } catch (err) {
      db?.close();
      throw new StartupError(`cannot open the outbox ${o.file}: ${describeError(err)}`, false, { cause: err });
    }
  }

  private load(): void {
    const db = this.db;
    const rows = this.messages.load(db);
    this.space.measure(db);
    inTransaction(db, () => {
      db.prepare('DELETE FROM boot WHERE boot_id NOT IN (SELECT DISTINCT boot_id FROM message)').run();
      db.prepare('INSERT INTO boot (boot_id, started_at, next_seq) VALUES (?, ?, 0)').run(
        this.bootId,
        this.o.clock.now(),
      );
    });
    this.markBacklog();
    const earlier = new Set(rows.map((r) => r.bootId)).size;
    const { backlog, events, media } = this.lanes;
    if (rows.length > 0 || backlog + events + media > 0) {
      this.o.log.info(
        { messages: rows.length, earlierBoots: earlier, backlog, events, media },
        'Outbox resumes what an earlier boot left',
      );
    }
  }

  addReading(reading: Reading): void {
    this.take({
      kind: ITEM_READING,
      device: reading.device,
      ts: reading.ts,
      at: this.o.clock.now(),
      body: JSON.stringify(reading),
    });
  }

  addEvent(event: CityEvent): void {
    this.take({
      kind: ITEM_EVENT,
      device: event.device,
      ts: event.ts,
      at: this.o.clock.now(),
      body: JSON.stringify(event),
    });
  }

  addMedia(item: Buffer, device: string, ts: number): void {
    this.take({ kind: ITEM_MEDIA, device, ts, at: this.o.clock.now(), body: item });
  }

  private take(item: Pending): void {
    if (this.closed) return;
    this.pending.push(item);
    if (this.pending.length >= COMMIT_AT_ITEMS) this.commit();
    else this.timer ??= setTimeout(() => this.commit(), this.o.commitInterval);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  commit(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    let failure = this.tryCommit(batch);
    if (failure) {
      // Full disk: make room inside the file (freed pages are reused) and try once more.
      this.enforceQuota();
      failure = this.tryCommit(batch);
    }
    if (failure) {
      for (const p of batch) {
        const delta = { compacted: 0, dropped: 0, eventsDropped: 0, mediaDropped: 0, from: p.ts, to: p.ts };
        if (p.kind === ITEM_EVENT) delta.eventsDropped = 1;
        else if (p.kind === ITEM_MEDIA) delta.mediaDropped = 1;
        else delta.dropped = 1;
        this.ledger.remember(p.device, delta, failure);
      }
      this.notify();
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      this.space.held += Buffer.byteLength(p.body) + ROW_OVERHEAD;
      if (p.kind === ITEM_EVENT) this.lanes.events++;
      else if (p.kind === ITEM_MEDIA) this.lanes.media++;
      else {
        this.lanes.live++;
        this.lanes.liveOldestAt ??= p.at;
      }
    }
    this.commits.inc();
    const events = batch.filter((p) => p.kind === ITEM_EVENT).length;
    const media = batch.filter((p) => p.kind === ITEM_MEDIA).length;
    if (events > 0) this.taken.inc({ type: 'event' }, events);
    if (media > 0) this.taken.inc({ type: 'media' }, media);
    if (batch.length > events + media) this.taken.inc({ type: 'reading' }, batch.length - events - media);
    if (this.space.overHighWater()) this.enforceQuota();
    this.notify();
  }

  /** Commits a batch; on failure (logged and counted) returns why. */
  private tryCommit(batch: Pending[]): LossReason | undefined {
    try {
      this.commitBatch(batch)();
      return undefined;
    } catch (err) {
      return this.space.writeFailed(err, batch.length);
    }
  }

  private enforceQuota(): void {
    this.space.shrink(this.quotaKeeper);
    this.recountLanes();
  }

  private recountLanes(): void {
    const l = this.lanes;
    l.backlog = scalar(this.stmt.count, ITEM_READING, 0, l.backlogEnd) as number;
    l.live = scalar(this.stmt.count, ITEM_READING, l.backlogEnd, Number.MAX_SAFE_INTEGER) as number;
    l.events = scalar(this.stmt.count, ITEM_EVENT, 0, Number.MAX_SAFE_INTEGER) as number;
    l.media = scalar(this.stmt.count, ITEM_MEDIA, 0, Number.MAX_SAFE_INTEGER) as number;
    l.liveOldestAt = (scalar(this.stmt.firstAt, ITEM_READING, l.backlogEnd) as number | undefined) ?? undefined;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  markBacklog(): void {
    this.lanes.backlogEnd = scalar(this.stmt.maxId) as number;
    this.recountLanes();
  }

  compose(plan: ComposePlan): OutboxMessage[] {
    if (this.closed || plan.slots <= 0) return [];
    const ctx = {
      stmt: this.stmt,
      bootId: this.bootId,
      maxReadings: this.o.maxReadings,
      maxDelay: this.o.maxDelay,
      maxMessageBytes: this.o.maxMessageBytes ?? 2 * 1024 * 1024,
      now: this.o.clock.now(),
    };
    let composed: Composed;
    try {
      composed = inTransaction(this.db, () => composeMessages(ctx, plan, this.lanes, this.nextSeq));
    } catch (err) {
      this.space.writeFailed(err, 0);
      return [];
    }
    this.lanes = composed.lanes;
    this.nextSeq = composed.nextSeq;
    this.space.held += composed.heldDelta;
    for (const m of composed.messages) this.messages.add(m);
    return composed.messages;
  }

  liveDueAt(): number | undefined {
    const { live, liveOldestAt } = this.lanes;
    return live > 0 && liveOldestAt !== undefined ? liveOldestAt + this.o.maxDelay : undefined;
  }

  unacked(): OutboxMessage[] {
    return this.messages.all();
  }

  body(message: OutboxMessage): string | Buffer | undefined {
    if (!this.messages.has(message.id) || this.closed) return undefined;
    const body = scalar(this.stmt.body, message.id) as string | ArrayBuffer | undefined;
    // libsql returns a BLOB (a media message) as an ArrayBuffer.
    return body instanceof ArrayBuffer ? Buffer.from(body) : body;
  }

  holdsBoot(bootId: string): boolean {
    return bootId === this.bootId || this.messages.holdsBoot(bootId);
  }

  ack(bootId: string, seq: number): { messages: number; items: number } {
    const covered = this.messages.covered(bootId, seq);
    if (covered.length === 0 || this.closed) return { messages: 0, items: 0 };
    try {
      // No fsync of its own: a lost delete is a re-send the hub drops; the next FULL commit carries it.
      this.db.pragma('synchronous = NORMAL');
      this.stmt.ackDelete.run(bootId, seq);
      if (bootId !== this.bootId && covered.length === this.messages.countOf(bootId)) this.stmt.deleteBoot.run(bootId);
    } catch (err) {
      this.space.writeFailed(err, 0);
      return { messages: 0, items: 0 };
    } finally {
      this.db.pragma('synchronous = FULL');
    }
    let items = 0;
    for (const m of covered) {
      this.messages.delete(m.id);
      this.space.held -= m.bytes + ROW_OVERHEAD;
      items += m.count;
    }
    return { messages: covered.length, items };
  }

  firstUnacked(bootId: string): number {
    return this.messages.lowestSeq(bootId) ?? this.nextSeq;
  }

  reportLosses(): number {
    if (this.closed || !this.ledger.pending()) return 0;
    const now = this.o.clock.now();
    let rows: Pending[] = [];
    try {
      const settle = inTransaction(this.db, () => {
        const settleRemembered = this.ledger.writeRemembered();
        rows = this.ledger.drainAsEvents(now).map((e) => ({
          kind: ITEM_EVENT,
          device: e.device,
          ts: e.ts,
          at: now,
          body: JSON.stringify(e),
        }));
        for (const p of rows) this.stmt.insertItem.run(p.kind, p.device, p.ts, p.at, Buffer.byteLength(p.body), p.body);
        return settleRemembered;
      });
      settle();
      this.ledger.drained();
    } catch (err) {
      this.space.writeFailed(err, 0);
      return 0;
    }
    for (const p of rows) this.space.held += Buffer.byteLength(p.body) + ROW_OVERHEAD;
    this.lanes.events += rows.length;
    if (rows.length > 0) {
      this.taken.inc({ type: 'event' }, rows.length);
      this.o.log.warn({ devices: rows.map((r) => r.device) }, 'Reporting outbox losses to the hub');
    }
    return rows.length;
  }

  stats(): OutboxStats {
    const { backlog, live, events, media } = this.lanes;
    return {
      items: backlog + live + events + media + this.messages.items(),
      messages: this.messages.size,
      bytes: this.space.held,
      backlog,
      live,
      events,
      media,
    };
  }

  oldestTakenAt(): number | undefined {
    const first = this.messages.first();
    const item = this.closed ? undefined : (scalar(this.stmt.oldestAt) as number | undefined);
    if (first === undefined) return item;
    return item === undefined ? first.takenAt : Math.min(first.takenAt, item);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.db.close();
  }
}
