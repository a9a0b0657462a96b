/**
 * Composition helpers of the telemetry sink: the hub main picks the store from its config and
 * wraps it in the batching writer. Nothing here connects: call `store.open()` at start-up.
 */

import type { HubConfig } from '../../../config/schema/hub.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { DeadLetterFile } from './dead-letter.js';
import { EmbeddedTelemetryStore } from './embedded-store.js';
import { InfluxTelemetryStore } from './influx-store.js';
import { TelemetrySpool } from './spool.js';
import type { TelemetryStore } from './types.js';
import { BatchingTelemetryWriter, type TelemetryWriterOptions } from './writer.js';

export { DEAD_LETTER_FILE, DeadLetterFile, type DeadLetterSink } from './dead-letter.js';
export { EMBEDDED_STORE_FILE, EmbeddedTelemetryStore } from './embedded-store.js';
export { type InfluxStoreOptions, InfluxTelemetryStore } from './influx-store.js';
export { type PointContext, QUALITY_FIELD, readingsToPoints, readingToPoint, seriesKey } from './point-mapping.js';
export { SPOOL_FILE, TelemetrySpool } from './spool.js';
export type { TelemetryPoint, TelemetryStore, TelemetryWriter } from './types.js';
export { BatchingTelemetryWriter, DrainTimeoutError, type TelemetryWriterOptions } from './writer.js';

/**
 * InfluxDB when `telemetry.influx` is configured (points it refuses for good go to
 * dead-letter.jsonl in `dataDir`), else the embedded store in `dataDir`.
 */
export function createTelemetryStore(
  cfg: HubConfig['telemetry'],
  dataDir: string,
  log: Logger,
  metrics: MetricsRegistry,
): TelemetryStore {
  const influx = cfg.influx;
  if (influx) {
    return new InfluxTelemetryStore(
      {
        url: influx.url,
        database: influx.database,
        retentionPolicy: influx.retentionPolicy,
        username: influx.username,
        password: influx.password,
        deadLetters: new DeadLetterFile(dataDir, log.child({ component: 'hub.telemetry' }), metrics).sink,
      },
      log.child({ component: 'hub.telemetry', store: 'influx' }),
      metrics,
    );
  }
  return new EmbeddedTelemetryStore(dataDir);
}

/** Writer options from the hub config (batch size, flush interval and writes in flight of `telemetry.influx`). */
export function writerOptionsFromConfig(cfg: HubConfig['telemetry']): TelemetryWriterOptions {
  const influx = cfg.influx;
  return influx
    ? {
        batchSize: influx.batchSize,
        flushIntervalMs: influx.flushInterval,
        maxInFlight: influx.maxInFlight,
        spoolAfterMs: cfg.spool.slowWrite,
      }
    : {};
}

/**
 * The disk spool for a store that needs one: InfluxDB (remote, may be down or slow). The embedded
 * store is local and durable already, so it gets none. Opening it replays what a previous run left.
 */
export function openSpoolFor(
  store: TelemetryStore,
  cfg: HubConfig['telemetry'],
  dataDir: string,
): TelemetrySpool | undefined {
  return store.name === 'influx' ? new TelemetrySpool(dataDir, cfg.spool.maxBytes) : undefined;
}

export function createTelemetryWriter(
  store: TelemetryStore,
  opts: TelemetryWriterOptions,
  log: Logger,
  metrics: MetricsRegistry,
): BatchingTelemetryWriter {
  return new BatchingTelemetryWriter(
    store,
    opts,
    log.child({ component: 'hub.telemetry', store: store.name }),
    metrics,
  );
}
