/**
 * The batching telemetry writer (TelemetryWriter of ./types.ts).
 *
 * - Points of many messages are cut into batches of at most `batchSize`; a batch leaves when it
 *   is full or when its oldest point has waited `flushIntervalMs`. Up to `maxInFlight` store
 *   writes run at once. A message may straddle two batches.
 * - A failed write is retried, same points, with exponential backoff (up to `maxBackoffMs`),
 *   forever: nothing is dropped here (the store drops points it can name as rejected, and counts
 *   them). The batch keeps its in-flight slot while it waits.
 * - `onDurable` callbacks run in submission order, each once all points of its message AND of
 *   every earlier message are durable: a later batch that finishes first waits. The ingest can
 *   therefore acknowledge "highest contiguous seq" straight from the callbacks.
 * - Memory is bounded by the caller: `saturated` turns true once `pending` reaches
 *   `highWaterMark` and false again below it. The writer itself still accepts every submit (no
 *   silent drops); the ingest is expected to stop taking uplinks (not acknowledge, pause the
 *   subscription) while it is true. The edge then keeps its outbox, which is where backlog belongs.
 * - With a spool (InfluxDB only; ./spool.ts): a batch whose write fails, or is still in flight
 *   after `spoolAfterMs`, is appended to the spool instead of retried in memory, and counts as
 *   durable once appended (its callbacks run). While the spool holds anything, new batches go to
 *   the spool too, behind it, so a device's points reach the store in the order they came; the
 *   SpoolReplayer drains it oldest first and new batches go straight to the store again once it
 *   is empty. A full spool (`maxBytes`) makes the writer `saturated` and it takes no batch until
 *   replay made room: nothing is dropped. A batch that was diverted while its write was slow may
 *   still land from that write too; writing a point twice is idempotent (types.ts).
 */
import { CitygridError, describeError } from '../../../drivers/sdk/errors.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { Fifo } from './fifo.js';
import type { TelemetrySpool } from './spool.js';
import { SpoolReplayer } from './spool-replayer.js';
import type { TelemetryPoint, TelemetryStore, TelemetryWriter } from './types.js';
import { registerWriterMetrics, type WriterMetrics } from './writer-metrics.js';

export interface TelemetryWriterOptions {
  /** Points per store write at most. Default 5000. */
  batchSize?: number;
  /** Longest a point waits for its batch to fill, ms. Default 100. */
  flushIntervalMs?: number;
  /** Concurrent store writes. Default 2. */
  maxInFlight?: number;
  /** First retry delay after a failed write, ms; doubles per attempt. Default 100. */
  initialBackoffMs?: number;
  /** Longest retry delay, ms. Default 5000. */
  maxBackoffMs?: number;
  /** Pending points at which `saturated` turns true. Default 100 000. */
  highWaterMark?: number;
  /** Clock for lag and batch age (ms since epoch). Default Date.now. */
  now?: () => number;
  /** Disk spool for batches the store cannot take now (owned by the writer from here on: close() closes it). */
  spool?: TelemetrySpool;
  /** A write still in flight after this long is spooled (only with a spool), ms. Default 2000. */
  spoolAfterMs?: number;
}

/** Thrown by drain() when the store did not take everything in time. */
export class DrainTimeoutError extends CitygridError {
  readonly pending: number;
  constructor(pending: number, timeoutMs: number) {
    super('SINK_DRAIN_TIMEOUT', `${pending} telemetry points not durable after ${timeoutMs} ms`);
    this.pending = pending;
  }
}

/** One submitted message: its points, how far batching has taken them, and its callback. */
interface Message {
  points: readonly TelemetryPoint[];
  /** Index of the first point not yet taken into a batch. */
  next: number;
  /** Points of this message not yet durable. */
  remaining: number;
  onDurable: () => void;
  submittedAt: number;
}

/**
 * One store write. Points are counted per message, not tracked one by one: at 5000 points per
 * write, per-point bookkeeping objects were a measurable share of the hub's garbage.
 */
interface Batch {
  points: TelemetryPoint[];
  /** The messages with points in this batch, in order, and how many each. */
  messages: Message[];
  counts: number[];
  /** Written or spooled: a late answer of a diverted write is ignored. */
  settled?: boolean;
}

export class BatchingTelemetryWriter implements TelemetryWriter {
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxInFlight: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  readonly highWaterMark: number;
  private readonly now: () => number;
  private readonly spool: TelemetrySpool | undefined;
  private readonly spoolAfterMs: number;
  private readonly replayer: SpoolReplayer | undefined;

  /** Messages with points not yet taken into a batch. */
  private readonly queue = new Fifo<Message>();
  /** Messages whose callback has not run yet, in submission order. */
  private readonly tickets = new Fifo<Message>();
  private inFlight = 0;
  private pendingPoints = 0;
  /** Points in `queue` not yet taken into a batch. */
  private queuedPoints = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** The oldest queued message when the flush timer was armed (the timer fires when it is due). */
  private flushTimerFor: Message | undefined;
  private readonly retryTimers = new Set<ReturnType<typeof setTimeout>>();
  private flushAll = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private unsaturatedWaiters: Array<() => void> = [];

  private readonly metrics: WriterMetrics;
  private readonly labels: Record<string, string>;

  constructor(
    private readonly store: TelemetryStore,
    opts: TelemetryWriterOptions,
    private readonly log: Logger,
    metrics: MetricsRegistry,
  ) {
    this.batchSize = opts.batchSize ?? 5000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 100;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.initialBackoffMs = opts.initialBackoffMs ?? 100;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
    this.highWaterMark = opts.highWaterMark ?? 100_000;
    this.now = opts.now ?? Date.now;
    this.spool = opts.spool;
    this.spoolAfterMs = opts.spoolAfterMs ?? 2000;
    this.labels = { store: store.name };
    this.metrics = registerWriterMetrics(metrics, this.labels, {
      pendingPoints: () => this.pendingPoints,
      lagMs: () => this.lagMs(this.now()),
      saturated: () => this.saturated,
      spool: this.spool,
      now: this.now,
    });
    const spool = this.spool;
    if (spool) {
      this.replayer = new SpoolReplayer(
        spool,
        store,
        { batchSize: this.batchSize, initialBackoffMs: this.initialBackoffMs, maxBackoffMs: this.maxBackoffMs },
        log,
        metrics,
        () => this.afterReplay(),
      );
      if (!spool.empty) {
        log.info({ spooledPoints: spool.points, rows: spool.rows }, 'Replaying the telemetry spool left from before');
        this.replayer.start();
      }
    }
  }

  get pending(): number {
    return this.pendingPoints;
  }

  /** True while `pending` >= `highWaterMark`: the ingest should stop taking uplinks. */
  get saturated(): boolean {
    return this.pendingPoints >= this.highWaterMark || this.spool?.full === true;
  }

  /** True while the spool holds batches: new batches queue behind them on disk. */
  private get spooling(): boolean {
    return this.spool !== undefined && !this.spool.empty;
  }

  /** Resolves as soon as `saturated` is false (at once when it is). */
  whenUnsaturated(): Promise<void> {
    if (!this.saturated) return Promise.resolve();
    return new Promise((resolve) => this.unsaturatedWaiters.push(resolve));
  }

  lagMs(now: number): number {
    const oldest = this.tickets.peek();
    return oldest ? Math.max(0, now - oldest.submittedAt) : 0;
  }

  submit(points: readonly TelemetryPoint[], onDurable: () => void): void {
    if (this.closed) throw new CitygridError('SINK_CLOSED', 'telemetry writer is closed');
    const message: Message = { points, next: 0, remaining: points.length, onDurable, submittedAt: this.now() };
    this.tickets.push(message);
    if (points.length === 0) {
      this.releaseDurable();
      return;
    }
    this.queue.push(message);
    this.queuedPoints += points.length;
    this.pendingPoints += points.length;
    this.pump();
  }

  async drain(timeoutMs: number): Promise<void> {
    if (this.pendingPoints === 0 && this.tickets.length === 0) return;
    this.flushAll = true;
    this.pump();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        reject(new DrainTimeoutError(this.pendingPoints, timeoutMs));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(done);
    });
  }

  /**
   * Stops timers and retries. Points not yet durable are abandoned without their callbacks: they
   * were never acknowledged, so the edges send them again. Call drain() first to avoid that.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.replayer?.stop();
    this.spool?.close();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
  }

  /** Starts as many batches as the rules allow and arms the flush timer for the rest. */
  private pump(): void {
    if (this.closed) return;
    while (this.queuedPoints > 0 && this.canStartBatch()) {
      const full = this.queuedPoints >= this.batchSize;
      const oldest = this.queue.peek() as Message;
      const due = this.now() - oldest.submittedAt >= this.flushIntervalMs;
      if (!full && !due && !this.flushAll) break;
      if (this.spooling) this.spoolBatch(this.takeBatch(), 0);
      else this.startBatch(this.takeBatch());
    }
    this.armFlushTimer();
  }

  private armFlushTimer(): void {
    const oldest = this.queue.peek();
    // With every slot busy the next completion pumps again; a timer would only spin.
    const needed = oldest !== undefined && this.canStartBatch() && !this.closed;
    // Armed for the same oldest message: its due time has not moved. (Re-arming on every submit
    // cost a clearTimeout + setTimeout per message.)
    if (needed && this.flushTimer !== undefined && this.flushTimerFor === oldest) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushTimerFor = undefined;
    if (!needed) return;
    const wait = Math.max(0, oldest.submittedAt + this.flushIntervalMs - this.now());
    this.flushTimerFor = oldest;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushTimerFor = undefined;
      this.pump();
    }, wait);
  }

  /** The oldest `batchSize` queued points (a message may straddle two batches). */
  private takeBatch(): Batch {
    const batch: Batch = { points: [], messages: [], counts: [] };
    const { points } = batch;
    for (let message = this.queue.peek(); message && points.length < this.batchSize; message = this.queue.peek()) {
      const end = Math.min(message.points.length, message.next + this.batchSize - points.length);
      for (let i = message.next; i < end; i++) points.push(message.points[i] as TelemetryPoint);
      batch.messages.push(message);
      batch.counts.push(end - message.next);
      message.next = end;
      if (end === message.points.length) this.queue.shift();
    }
    this.queuedPoints -= points.length;
    return batch;
  }

  /**
   * A free write slot; while spooling, room in the spool and no direct write still in flight (it
   * may yet fail and be spooled: a later batch must not get into the spool ahead of it).
   */
  private canStartBatch(): boolean {
    if (this.spooling) return this.inFlight === 0 && !(this.spool as TelemetrySpool).full;
    return this.inFlight < this.maxInFlight;
  }

  private startBatch(batch: Batch): void {
    this.inFlight += 1;
    this.attempt(batch, 0);
  }

  private attempt(batch: Batch, failures: number): void {
    const started = performance.now();
    const slowTimer = this.spool ? setTimeout(() => this.divert(batch, failures), this.spoolAfterMs) : undefined;
    // A store may throw synchronously (a client's schema check): treat it like a rejection.
    Promise.resolve()
      .then(() => this.store.write(batch.points))
      .then(
        () => {
          clearTimeout(slowTimer);
          this.onWritten(batch, (performance.now() - started) / 1000, failures);
        },
        (err: unknown) => {
          clearTimeout(slowTimer);
          if (this.spool && !batch.settled && !this.closed) {
            this.metrics.errors.inc(this.labels);
            this.log.warn({ points: batch.points.length, err: describeError(err) }, 'Telemetry write failed; spooling');
            this.divert(batch, failures + 1);
          } else this.onFailed(batch, failures + 1, err);
        },
      );
  }

  /** Takes an in-flight batch off the store (failed or slow) and appends it to the spool. */
  private divert(batch: Batch, failures: number): void {
    if (batch.settled || this.closed) return;
    batch.settled = true;
    this.inFlight -= 1;
    this.spoolBatch(batch, failures);
    this.pump();
  }

  /**
   * Appends the batch to the spool and releases its points as durable. When the disk refuses
   * (full, I/O error) the batch goes back to in-memory retries against the store.
   */
  private spoolBatch(batch: Batch, failures: number): void {
    const spool = this.spool as TelemetrySpool;
    try {
      spool.append(batch.points, this.now());
    } catch (err) {
      this.log.error({ points: batch.points.length, err: describeError(err) }, 'Telemetry spool append failed');
      batch.settled = false;
      this.inFlight += 1;
      this.onFailed(batch, Math.max(1, failures), err);
      return;
    }
    this.metrics.spooled.inc(this.labels, batch.points.length);
    this.replayer?.start(failures > 0 ? this.initialBackoffMs : this.spoolAfterMs);
    this.settle(batch);
  }

  /** After replay removed rows: room in the spool, maybe empty (new batches go direct again). */
  private afterReplay(): void {
    if (this.closed) return;
    this.pump();
    this.wakeUnsaturated();
  }

  private onWritten(batch: Batch, seconds: number, failures: number): void {
    if (this.closed || batch.settled) return;
    batch.settled = true;
    const size = batch.points.length;
    if (failures > 0) this.log.info({ points: size, attempts: failures + 1 }, 'Telemetry write recovered');
    this.inFlight -= 1;
    this.metrics.written.inc(this.labels, size);
    this.metrics.writes.inc(this.labels);
    this.metrics.writeSeconds.inc(this.labels, seconds);
    this.metrics.lastWriteSeconds.set(this.labels, seconds);
    this.metrics.lastBatch.set(this.labels, size);
    this.settle(batch);
    this.pump();
  }

  /** The batch's points are durable (in the store or in the spool). */
  private settle(batch: Batch): void {
    this.pendingPoints -= batch.points.length;
    for (let i = 0; i < batch.messages.length; i++)
      (batch.messages[i] as Message).remaining -= batch.counts[i] as number;
    this.releaseDurable();
    this.wakeUnsaturated();
  }

  private wakeUnsaturated(): void {
    if (this.unsaturatedWaiters.length > 0 && !this.saturated) {
      const waiters = this.unsaturatedWaiters;
      this.unsaturatedWaiters = [];
      for (const resume of waiters) resume();
    }
  }

  private onFailed(batch: Batch, failures: number, err: unknown): void {
    if (this.closed || batch.settled) return;
    this.metrics.errors.inc(this.labels);
    const delay = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (failures - 1));
    // One line when a write starts failing, then one per ~10 attempts: a dead store must not flood the log.
    if (failures === 1 || failures % 10 === 0) {
      this.log.warn(
        { points: batch.points.length, attempt: failures, retryInMs: delay, err: describeError(err) },
        'Telemetry write failed; retrying',
      );
    }
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.attempt(batch, failures);
    }, delay);
    this.retryTimers.add(timer);
  }

  /** Runs the callbacks of the leading messages whose points are all durable, in submission order. */
  private releaseDurable(): void {
    for (let head = this.tickets.peek(); head && head.remaining === 0; head = this.tickets.peek()) {
      this.tickets.shift();
      try {
        head.onDurable();
      } catch (err) {
        this.log.error({ err: describeError(err) }, 'Telemetry onDurable callback threw');
      }
    }
    if (this.tickets.length === 0 && this.pendingPoints === 0) {
      this.flushAll = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
