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

/** One line per point, joined with `\n`; the timestamp is `ts` in ms. */
export function toLineProtocol(points: readonly TelemetryPoint[]): string {
  let out = '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as TelemetryPoint;
    let line = p.measurement;
    for (const key in p.tags) line += `,${escapeKey(key)}=${escapeKey(p.tags[key] as string)}`;
    let sep = ' ';
    for (const key in p.fields) {
      line += `${sep}${escapeKey(key)}=${fieldValue(p.fields[key] as FieldValue)}`;
      sep = ',';
    }
    out += i === 0 ? `${line} ${p.ts}` : `\n${line} ${p.ts}`;
  }
  return out;
}
