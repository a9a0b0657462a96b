/**
 * InfluxDB 1.x line protocol for TelemetryPoints, precision ms.
 *
 * Why not the `influx` package's writePoints: without a schema it copies, sorts and maps every
 * point's fields and runs a regex escaper per key; measured with the ingest bench that was ~20 %
 * of the hub's CPU at 50 readings per message. The output here is what that package writes
 * (numbers as floats, booleans as true/false, strings quoted with `"` and `\` escaped, tag and
 * field keys with `,` `=` and space escaped, measurement names as they are), except that fields
 * keep their insertion order (InfluxDB does not care about field order). Measurement names are
 * not escaped, like the package: they are snake_case kinds (the wire schema) or `event`, and a
 * name that is not is then refused by InfluxDB as a bad point, counted and dropped by the store.
 */
import type { FieldValue } from '../../../drivers/sdk/reading.js';
import { ByteSink } from './byte-sink.js';
import { QUALITY_FIELD, ReadingPoint } from './point-mapping.js';
import type { TelemetryPoint } from './types.js';

const NEEDS_KEY_ESCAPE = /[,= ]/;
const NEEDS_STRING_ESCAPE = /["\\]/;

/** Tag keys, tag values and field keys: `,`, `=` and space get a backslash. */
export function escapeKey(text: string): string {
  return NEEDS_KEY_ESCAPE.test(text) ? text.replace(/[,= ]/g, '\\$&') : text;
}

function fieldValue(value: FieldValue): string {
  if (typeof value === 'string')
    return NEEDS_STRING_ESCAPE.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
  return String(value);
}

/** The line of a point built from its tags and fields objects. */
function pointLine(p: TelemetryPoint): string {
  let line = p.measurement;
  for (const key in p.tags) line += `,${escapeKey(key)}=${escapeKey(p.tags[key] as string)}`;
  let sep = ' ';
  for (const key in p.fields) {
    line += `${sep}${escapeKey(key)}=${fieldValue(p.fields[key] as FieldValue)}`;
    sep = ',';
  }
  return `${line} ${p.ts}`;
}

/** Entries an encoder cache holds before it starts over (devices, field keys). */
const CACHE_LIMIT = 100_000;
/** First guess of a body's size per point; the sink grows when it is short. */
const BYTES_PER_LINE_GUESS = 200;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const COMMA = 0x2c;
const QUALITY_EQUALS = `${QUALITY_FIELD}=`;

/** A device's tag set as last written, with the line prefix it gives (measurement and tags). */
interface TagPrefix {
  kind: string;
  district: string;
  gateway: string;
  asset: string | undefined;
  grid: string | undefined;
  text: string;
}

/**
 * Writes the lines of ReadingPoints straight from their readings, with what repeats from point to
 * point cached: a device's measurement + tags prefix, and each field key with its `=`. The text is
 * exactly what toLineProtocol gives for the same points, written as bytes (see byte-sink.ts). Why:
 * at 50 readings per message escaping and concatenating tags and keys was ~15 % of the hub's ingest
 * CPU; only the field values really change from one reading to the next.
 */
export class LineProtocolEncoder {
  private readonly prefixes = new Map<string, TagPrefix>();
  private readonly keys = new Map<string, string>();

  /** One line per point, joined with `\n`, as UTF-8: the request body. */
  body(points: readonly TelemetryPoint[]): Buffer {
    const sink = new ByteSink(points.length * BYTES_PER_LINE_GUESS);
    for (let i = 0; i < points.length; i++) {
      if (i > 0) sink.byte(NEWLINE);
      const p = points[i] as TelemetryPoint;
      if (p instanceof ReadingPoint) this.writeReading(sink, p);
      else sink.text(pointLine(p));
    }
    return sink.bytes();
  }

  /** body() as a string. */
  text(points: readonly TelemetryPoint[]): string {
    return this.body(points).toString('utf8');
  }

  /**
   * Tags in the order readingToPoint gives them (asset?, device, district, gateway, grid?); the
   * reading's fields with `quality` in place of a field of that name, else last.
   */
  private writeReading(sink: ByteSink, p: ReadingPoint): void {
    const r = p.reading;
    sink.text(this.prefix(p));
    const quality = r.quality === undefined ? '"good"' : fieldValue(r.quality);
    const fields = r.fields;
    let sep = SPACE;
    let qualityWritten = false;
    for (const key in fields) {
      sink.byte(sep);
      sep = COMMA;
      if (key === QUALITY_FIELD) {
        sink.text(QUALITY_EQUALS);
        sink.text(quality);
        qualityWritten = true;
      } else {
        const value = fields[key] as FieldValue;
        sink.text(this.keyEquals(key));
        sink.text(typeof value === 'number' ? String(value) : fieldValue(value));
      }
    }
    if (!qualityWritten) {
      sink.byte(sep);
      sink.text(QUALITY_EQUALS);
      sink.text(quality);
    }
    sink.byte(SPACE);
    sink.text(String(r.ts));
  }

  private prefix(p: ReadingPoint): string {
    const device = p.reading.device;
    const kind = p.reading.kind;
    const known = this.prefixes.get(device);
    if (
      known !== undefined &&
      known.kind === kind &&
      known.district === p.district &&
      known.gateway === p.gateway &&
      known.asset === p.asset &&
      known.grid === p.grid
    )
      return known.text;
    let text = kind;
    if (p.asset) text += `,asset=${escapeKey(p.asset)}`;
    text += `,device=${escapeKey(device)},district=${escapeKey(p.district)},gateway=${escapeKey(p.gateway)}`;
    if (p.grid) text += `,grid=${escapeKey(p.grid)}`;
    if (this.prefixes.size >= CACHE_LIMIT) this.prefixes.clear();
    this.prefixes.set(device, { kind, district: p.district, gateway: p.gateway, asset: p.asset, grid: p.grid, text });
    return text;
  }

  private keyEquals(key: string): string {
    let text = this.keys.get(key);
    if (text === undefined) {
      text = `${escapeKey(key)}=`;
      if (this.keys.size >= CACHE_LIMIT) this.keys.clear();
      this.keys.set(key, text);
    }
    return text;
  }
}

/** One line per point, joined with `\n`; the timestamp is `ts` in ms. Built from tags and fields. */
export function toLineProtocol(points: readonly TelemetryPoint[]): string {
  return points.map(pointLine).join('\n');
}
