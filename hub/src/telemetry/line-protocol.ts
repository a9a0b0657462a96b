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

/**
 * The line of a ReadingPoint, straight from its reading: the same text pointLine gives for its
 * tags and fields (same order: tags asset?, device, district, gateway, grid?; the reading's fields
 * with `quality` in place of a field of that name, else last), without building those objects.
 */
function readingLine(p: ReadingPoint): string {
  const r = p.reading;
  let line = r.kind;
  if (p.asset) line += `,asset=${escapeKey(p.asset)}`;
  line += `,device=${escapeKey(r.device)},district=${escapeKey(p.district)},gateway=${escapeKey(p.gateway)}`;
  if (p.grid) line += `,grid=${escapeKey(p.grid)}`;
  const quality = r.quality === undefined ? '"good"' : fieldValue(r.quality);
  const fields = r.fields;
  let sep = ' ';
  let qualityWritten = false;
  for (const key in fields) {
    if (key === QUALITY_FIELD) {
      line += `${sep}${QUALITY_FIELD}=${quality}`;
      qualityWritten = true;
    } else line += `${sep}${escapeKey(key)}=${fieldValue(fields[key] as FieldValue)}`;
    sep = ',';
  }
  if (!qualityWritten) line += `${sep}${QUALITY_FIELD}=${quality}`;
  return `${line} ${r.ts}`;
}

function lines(points: readonly TelemetryPoint[]): string[] {
  const out = new Array<string>(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as TelemetryPoint;
    out[i] = p instanceof ReadingPoint ? readingLine(p) : pointLine(p);
  }
  return out;
}

/** One line per point, joined with `\n`; the timestamp is `ts` in ms. */
export function toLineProtocol(points: readonly TelemetryPoint[]): string {
  return lines(points).join('\n');
}

/**
 * toLineProtocol as UTF-8, the request body. Joining the lines gives a flat string that encodes in
 * one pass; a string grown with `+=` is a rope that V8 first flattens, and the `influx` pool encodes
 * a string body twice (once for content-length).
 */
export function toLineProtocolBody(points: readonly TelemetryPoint[]): Buffer {
  return Buffer.from(toLineProtocol(points), 'utf8');
}
