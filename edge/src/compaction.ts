/**
 * How the outbox thins telemetry when its disk quota is near (pure: no I/O, no clock).
 *
 * The readings of one device that fall into one window (`floor(ts / window)`) become ONE
 * compacted Reading, so InfluxDB gets one point per device and window instead of none:
 *
 * - `ts` is the timestamp of the last sample; every original field keeps its name and carries
 *   the last sample's value (so `SELECT lat ...` and the latest-value cache keep working);
 * - for each numeric field `f`: `f_min`, `f_max`, `f_mean` (mean over the samples that carried
 *   `f`, weighted by their sample counts when compacted rows are merged again);
 * - `sample_count` (readings summarised), `window_s` (window length), `first_ts` (ms timestamp of
 *   the first sample), and `compacted: true`;
 * - `quality: 'uncertain'`, `gatewayClock: true` when any sample had it, the asset of the last.
 *
 * Compacted readings can be compacted again into a coarser window: the statistics merge exactly
 * (min of mins, max of maxes, weighted mean, sum of counts, last of lasts).
 */
import type { FieldValue, Reading } from '../../drivers/sdk/reading.js';

/** Fields every compacted reading carries besides the original ones and their statistics. */
export const COMPACTED_FIELD = 'compacted';
export const SAMPLE_COUNT_FIELD = 'sample_count';
export const WINDOW_FIELD = 'window_s';
export const FIRST_TS_FIELD = 'first_ts';
const RESERVED = new Set([COMPACTED_FIELD, SAMPLE_COUNT_FIELD, WINDOW_FIELD, FIRST_TS_FIELD]);
const STAT_SUFFIXES = ['_min', '_max', '_mean'] as const;

interface FieldStats {
  min: number;
  max: number;
  /** Sum of value * weight, and the weight (samples that carried the field). */
  sum: number;
  weight: number;
}

/** Samples a stored reading stands for: 1 for a raw reading, `sample_count` for a compacted one. */
export function sampleCount(reading: Reading): number {
  const n = reading.fields[SAMPLE_COUNT_FIELD];
  return reading.fields[COMPACTED_FIELD] === true && typeof n === 'number' && n >= 1 ? n : 1;
}

/** The original field names of a reading (its statistics and markers left out). */
function baseFields(reading: Reading): string[] {
  const fields = reading.fields;
  if (fields[COMPACTED_FIELD] !== true) return Object.keys(fields);
  return Object.keys(fields).filter((key) => {
    if (RESERVED.has(key)) return false;
    for (const suffix of STAT_SUFFIXES) {
      const base = key.slice(0, -suffix.length);
      if (key.endsWith(suffix) && typeof fields[base] === 'number') return false;
    }
    return true;
  });
}

function statsOf(reading: Reading, field: string, value: number): FieldStats {
  const n = sampleCount(reading);
  const f = reading.fields;
  if (f[COMPACTED_FIELD] !== true) return { min: value, max: value, sum: value, weight: 1 };
  const num = (key: string, fallback: number) => (typeof f[key] === 'number' ? (f[key] as number) : fallback);
  const mean = num(`${field}_mean`, value);
  return { min: num(`${field}_min`, value), max: num(`${field}_max`, value), sum: mean * n, weight: n };
}

/**
 * Merges readings of ONE device and kind (raw or compacted, any order) into one compacted reading
 * for a window of `windowMs`.
 */
export function compactReadings(readings: readonly Reading[], windowMs: number): Reading {
  if (readings.length === 0) throw new Error('compactReadings needs at least one reading');
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  const last = sorted[sorted.length - 1] as Reading;
  const stats = new Map<string, FieldStats>();
  const lastValue = new Map<string, FieldValue>();
  let samples = 0;
  let firstTs = Number.POSITIVE_INFINITY;
  let gatewayClock = false;
  for (const reading of sorted) {
    samples += sampleCount(reading);
    const first = reading.fields[FIRST_TS_FIELD];
    firstTs = Math.min(firstTs, typeof first === 'number' ? first : reading.ts);
    if (reading.gatewayClock) gatewayClock = true;
    for (const field of baseFields(reading)) {
      const value = reading.fields[field] as FieldValue;
      lastValue.set(field, value);
      if (typeof value !== 'number') continue;
      const s = statsOf(reading, field, value);
      const acc = stats.get(field);
      if (!acc) stats.set(field, s);
      else {
        acc.min = Math.min(acc.min, s.min);
        acc.max = Math.max(acc.max, s.max);
        acc.sum += s.sum;
        acc.weight += s.weight;
      }
    }
  }
  const fields: Record<string, FieldValue> = {};
  for (const [field, value] of lastValue) {
    fields[field] = value;
    const s = stats.get(field);
    if (s && typeof value === 'number') {
      fields[`${field}_min`] = s.min;
      fields[`${field}_max`] = s.max;
      fields[`${field}_mean`] = s.sum / s.weight;
    }
  }
  fields[SAMPLE_COUNT_FIELD] = samples;
  fields[WINDOW_FIELD] = Math.round(windowMs / 1000);
  fields[FIRST_TS_FIELD] = firstTs;
  fields[COMPACTED_FIELD] = true;
  return {
    device: last.device,
    kind: last.kind,
    ts: last.ts,
    fields,
    quality: 'uncertain',
    ...(gatewayClock ? { gatewayClock: true } : {}),
    ...(last.asset ? { asset: last.asset } : {}),
  };
}

/** Key of the window group a reading belongs to. */
export function windowKey(reading: Reading, windowMs: number): string {
  return `${reading.device}\u0000${reading.kind}\u0000${Math.floor(reading.ts / windowMs)}`;
}
