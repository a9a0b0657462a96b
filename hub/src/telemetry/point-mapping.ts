/**
 * The one place a Reading becomes a stored point (DESIGN §4.1). Integrators read the result in
 * InfluxDB, so the names here are the public measurement reference:
 *
 * - measurement = `reading.kind` (`vehicle`, `water_meter`, …)
 * - tags (low cardinality, sorted by key): `asset`?, `device`, `district`, `gateway`, `grid`?.
 *   `asset` and `grid` are omitted when unknown (InfluxDB has no empty tag values).
 *   Never seq, boot id or case ids: those would make a new series per message.
 * - fields = `reading.fields` as they are, plus `quality`:
 *   a string field that is ALWAYS written (`good` when the reading carries none). Always, because
 *   InfluxQL drops rows whose field is null from any WHERE on it, so "absent means good" would make
 *   `WHERE quality != 'bad'` silently lose every good point. A string field, not a tag: a quality
 *   that flips would otherwise split a device into several series. A reading's own field named
 *   `quality` (no FIELDS entry has that name) is overwritten by the reading's quality.
 * - ts = `reading.ts`, ms since epoch (written with precision ms).
 */
import type { CityEvent, FieldValue, Reading } from '../../../drivers/sdk/reading.js';
import type { TelemetryPoint } from './types.js';

/** Where a reading came from (its topic) and how to place it in the city grid. */
export interface PointContext {
  /** District id from the topic `cg/v1/<district>/<gateway>/telemetry`. */
  district: string;
  /** Gateway id from the topic. */
  gateway: string;
  /**
   * Grid cell of the reading, when it can be told: by the asset's cell from the city config, or by
   * position for moving devices. Undefined leaves the `grid` tag out.
   */
  resolveGrid?: (reading: Reading) => string | undefined;
}

/** The name of the quality field every point carries. */
export const QUALITY_FIELD = 'quality';

export function readingToPoint(reading: Reading, ctx: PointContext): TelemetryPoint {
  const tags: Record<string, string> = {};
  const grid = ctx.resolveGrid?.(reading);
  if (reading.asset) tags.asset = reading.asset;
  tags.device = reading.device;
  tags.district = ctx.district;
  tags.gateway = ctx.gateway;
  if (grid) tags.grid = grid;
  return {
    measurement: reading.kind,
    tags,
    fields: { ...reading.fields, [QUALITY_FIELD]: reading.quality ?? 'good' },
    ts: reading.ts,
  };
}

/**
 * A reading placed by the ingest, as a TelemetryPoint that copies nothing: `tags` and `fields` are
 * built only when something reads them (the embedded store, diagnostics) and are then exactly what
 * readingToPoint gives; the InfluxDB serialiser (line-protocol.ts) writes its line straight from
 * the reading. Why: building tags and fields objects for every reading, then a string from them,
 * was ~30 % of the hub's ingest CPU and most of its garbage. Its own fields are those of the live
 * bus' LiveReading, so the ingest hands the same object to both.
 */
export class ReadingPoint implements TelemetryPoint {
  constructor(
    readonly reading: Reading,
    readonly district: string,
    readonly gateway: string,
    /** The reading's own asset, else the one the gateway's birth inventory names for the device. */
    readonly asset: string | undefined,
    readonly grid: string | undefined,
    /** ms since epoch, hub clock, when the hub accepted the message. */
    readonly receivedAt: number,
  ) {}

  get measurement(): string {
    return this.reading.kind;
  }

  get ts(): number {
    return this.reading.ts;
  }

  get tags(): Record<string, string> {
    const tags: Record<string, string> = {};
    if (this.asset) tags.asset = this.asset;
    tags.device = this.reading.device;
    tags.district = this.district;
    tags.gateway = this.gateway;
    if (this.grid) tags.grid = this.grid;
    return tags;
  }

  get fields(): Record<string, FieldValue> {
    return { ...this.reading.fields, [QUALITY_FIELD]: this.reading.quality ?? 'good' };
  }

  /** As plain data (JSON.stringify, a spool): the TelemetryPoint readingToPoint would give. */
  toJSON(): TelemetryPoint {
    return { measurement: this.measurement, tags: this.tags, fields: this.fields, ts: this.ts };
  }
}

/** The measurement every Event is stored in. */
export const EVENT_MEASUREMENT = 'event';

/**
 * An Event as a stored point, so events are as durable as readings and share their
 * acknowledgement path: measurement `event`; tags `device`, `district`, `gateway`, `type`,
 * `severity`, and `asset` / `grid` when known (all low cardinality); fields `data` (the event's
 * data as a JSON string, `{}` when none) and `count` = 1 (so `SELECT sum(count)` counts events).
 */
export function eventToPoint(
  event: CityEvent,
  ctx: { district: string; gateway: string; grid?: string },
): TelemetryPoint {
  const tags: Record<string, string> = {};
  if (event.asset) tags.asset = event.asset;
  tags.device = event.device;
  tags.district = ctx.district;
  tags.gateway = ctx.gateway;
  if (ctx.grid) tags.grid = ctx.grid;
  tags.severity = event.severity;
  tags.type = event.type;
  return {
    measurement: EVENT_MEASUREMENT,
    tags,
    fields: { data: JSON.stringify(event.data ?? {}), count: 1 },
    ts: event.ts,
  };
}

export function readingsToPoints(readings: readonly Reading[], ctx: PointContext): TelemetryPoint[] {
  return readings.map((r) => readingToPoint(r, ctx));
}

/**
 * A canonical, unambiguous key of a point's series (measurement + sorted tags). Two points with
 * the same series key and ts are the same point: the second write overwrites the first.
 */
export function seriesKey(tags: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(tags).sort()) sorted[key] = tags[key] as string;
  return JSON.stringify(sorted);
}
