/**
 * Drains the telemetry spool into the store, oldest first, one write at a time. Rows are deleted
 * only after the store accepted their points. A failed write is a probe that failed: the next one
 * follows after a doubling delay (capped), so a dead InfluxDB costs one request per `maxBackoffMs`.
 * Runs until the spool is empty; the writer starts it again whenever it spools a batch.
 */
import { describeError } from '../../../drivers/sdk/errors.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { TelemetrySpool } from './spool.js';
import type { TelemetryStore } from './types.js';

export interface SpoolReplayerOptions {
  /** Points per replay write at most (consecutive rows are merged up to it). */
  batchSize: number;
  /** Delay before the first probe after a failure, ms; doubles per failure. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export class SpoolReplayer {
  private running = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private readonly labels: Record<string, string>;
  private readonly metrics: {
    replayed: ReturnType<MetricsRegistry['counter']>;
    errors: ReturnType<MetricsRegistry['counter']>;
  };

  constructor(
    private readonly spool: TelemetrySpool,
    private readonly store: TelemetryStore,
    private readonly opts: SpoolReplayerOptions,
    private readonly log: Logger,
    metrics: MetricsRegistry,
    /** Called after rows were removed (the writer may take points again / route new batches direct). */
    private readonly onProgress: () => void,
  ) {
    this.labels = { store: store.name };
    this.metrics = {
      replayed: metrics.counter(
        'citygrid_sink_replayed_points_total',
        'Telemetry points replayed from the spool into the store.',
      ),
      errors: metrics.counter(
        'citygrid_sink_replay_errors_total',
        'Failed replay writes from the spool (each is a probe; retried with backoff).',
      ),
    };
  }

  /** Starts draining unless already running; `delayMs` before the first write (after a store failure). */
  start(delayMs = 0): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.schedule(delayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.step();
    }, delayMs);
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    const chunk = this.spool.head(this.opts.batchSize);
    if (!chunk) {
      this.running = false;
      this.onProgress();
      return;
    }
    try {
      await this.store.write(chunk.points);
    } catch (err) {
      if (this.stopped) return;
      this.failures += 1;
      this.metrics.errors.inc(this.labels);
      const delay = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** (this.failures - 1));
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.log.warn(
          {
            spooledPoints: this.spool.points,
            attempt: this.failures,
            retryInMs: delay,
            err: describeError(err),
          },
          'Spool replay write failed; probing again later',
        );
      }
      this.schedule(delay);
      return;
    }
    if (this.stopped) return;
    if (this.failures > 0) {
      this.log.info({ spooledPoints: this.spool.points, attempts: this.failures + 1 }, 'Spool replay resumed');
    }
    this.failures = 0;
    this.spool.remove(chunk);
    this.metrics.replayed.inc(this.labels, chunk.points.length);
    if (this.spool.empty) this.log.info('Spool drained');
    this.onProgress();
    this.schedule(0);
  }
}
