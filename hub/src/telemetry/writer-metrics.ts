/**
 * The telemetry writer's metrics, registered in one place: counters it bumps as it writes, and
 * gauges read at scrape time from the writer and its disk spool.
 */
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { TelemetrySpool } from './spool.js';

export interface WriterMetrics {
  written: ReturnType<MetricsRegistry['counter']>;
  errors: ReturnType<MetricsRegistry['counter']>;
  writes: ReturnType<MetricsRegistry['counter']>;
  writeSeconds: ReturnType<MetricsRegistry['counter']>;
  lastWriteSeconds: ReturnType<MetricsRegistry['gauge']>;
  lastBatch: ReturnType<MetricsRegistry['gauge']>;
  spooled: ReturnType<MetricsRegistry['counter']>;
}

/** What the scrape-time gauges read. */
export interface WriterGaugeSources {
  pendingPoints: () => number;
  lagMs: () => number;
  saturated: () => boolean;
  spool: TelemetrySpool | undefined;
  now: () => number;
}

export function registerWriterMetrics(
  metrics: MetricsRegistry,
  labels: Record<string, string>,
  read: WriterGaugeSources,
): WriterMetrics {
  metrics.gauge('citygrid_sink_pending_points', 'Telemetry points queued or in flight, not yet durable.', (g) =>
    g.set(labels, read.pendingPoints()),
  );
  metrics.gauge('citygrid_sink_lag_seconds', 'Age of the oldest telemetry point not yet durable.', (g) =>
    g.set(labels, read.lagMs() / 1000),
  );
  metrics.gauge('citygrid_sink_saturated', '1 while pending points are at or above the high-water mark.', (g) =>
    g.set(labels, read.saturated() ? 1 : 0),
  );
  const spool = read.spool;
  if (spool) {
    metrics.gauge('citygrid_sink_spool_rows', 'Batches in the disk spool waiting for replay.', (g) =>
      g.set(labels, spool.rows),
    );
    metrics.gauge('citygrid_sink_spool_bytes', 'Encoded size of the batches in the disk spool.', (g) =>
      g.set(labels, spool.bytes),
    );
    metrics.gauge('citygrid_sink_spool_points', 'Telemetry points in the disk spool.', (g) =>
      g.set(labels, spool.points),
    );
    metrics.gauge('citygrid_sink_spool_oldest_age_seconds', 'Age of the oldest batch in the disk spool.', (g) =>
      g.set(labels, spool.oldestAgeMs(read.now()) / 1000),
    );
  }
  return {
    written: metrics.counter('citygrid_sink_points_written_total', 'Telemetry points made durable by the store.'),
    errors: metrics.counter('citygrid_sink_write_errors_total', 'Failed telemetry store writes (each is retried).'),
    writes: metrics.counter('citygrid_sink_writes_total', 'Successful telemetry store writes (batches).'),
    writeSeconds: metrics.counter(
      'citygrid_sink_write_seconds_total',
      'Time spent in successful store writes, seconds (divide by citygrid_sink_writes_total for the mean).',
    ),
    lastWriteSeconds: metrics.gauge('citygrid_sink_last_write_seconds', 'Duration of the last successful store write.'),
    lastBatch: metrics.gauge('citygrid_sink_last_batch_points', 'Points in the last successful store write.'),
    spooled: metrics.counter(
      'citygrid_sink_spooled_points_total',
      'Telemetry points appended to the disk spool because the store failed or was slow.',
    ),
  };
}
