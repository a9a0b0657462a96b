/**
 * Contract between the hub ingest and the telemetry store. The ingest never knows whether
 * points go to InfluxDB or to the embedded store; the store never knows about MQTT or seqs.
 */
import type { FieldValue } from '../../../drivers/sdk/reading.js';

/** One point as stored: measurement = reading kind, tags low-cardinality, fields = reading fields. */
export interface TelemetryPoint {
  measurement: string;
  /** district, gateway, device, and asset / grid when known. Never seq or case ids. */
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** ms since epoch. */
  ts: number;
}

/** One device's series over a time range: `since <= ts < until`, oldest first; `limit` keeps the newest. */
export interface TelemetryQuery {
  measurement: string;
  device: string;
  since: number;
  until?: number;
  limit?: number;
}

/** A store that can make points durable. Implementations: InfluxDB 1.x, embedded (libsql in the data dir). */
export interface TelemetryStore {
  /** `influx` or `embedded`; shown at start-up and on /healthz. */
  readonly name: string;
  /** Connects / creates the database. Throws StartupError when unreachable and retryable. */
  open(): Promise<void>;
  /**
   * Writes the points; resolves only when the store has made them durable. Rejects when nothing
   * was written (the caller retries the same points; writing a point twice is idempotent in both
   * stores because a point is identified by measurement + tags + ts).
   */
  write(points: readonly TelemetryPoint[]): Promise<void>;
  /** Last-hours series of one device, for charts and tests. */
  query(q: TelemetryQuery): Promise<TelemetryPoint[]>;
  close(): Promise<void>;
}

/**
 * Batches points across many uplink messages into store writes (size or time, several writes in
 * flight), retries failed writes with backoff without dropping, and tells each submitter when its
 * points are durable. The ingest acknowledges an uplink seq only from that callback.
 */
export interface TelemetryWriter {
  /** Queues the points of one message; `onDurable` runs once all of them are stored. */
  submit(points: readonly TelemetryPoint[], onDurable: () => void): void;
  /** Points queued or in flight, not yet durable. */
  readonly pending: number;
  /** Age in ms of the oldest point not yet durable (0 when none): the sink lag. */
  lagMs(now: number): number;
  /** Flushes everything and waits for it (used on shutdown). */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
