import { describe, expect, it } from 'vitest';
import { type Reading, readingSchema } from '../../drivers/sdk/reading.js';
import { compactReadings, sampleCount, windowKey } from '../../edge/src/compaction.js';

const T0 = 1_700_000_040_000;
const gps = (i: number, fields: Record<string, number | boolean | string> = {}): Reading => ({
  device: 'XH-GP001',
  kind: 'vehicle',
  ts: T0 + i * 1000,
  fields: { lat: 30 + i, speed_kmh: 10 * i, ...fields },
  quality: 'good',
  asset: 'TRUCK-XH-01',
});

describe('compactReadings', () => {
  it('summarises one device and window: last value under the field name, min/max/mean, count, markers', () => {
    const c = compactReadings([gps(2), gps(0), gps(1, { valve_open: true })], 60_000);
    expect(c).toEqual({
      device: 'XH-GP001',
      kind: 'vehicle',
      ts: T0 + 2000,
      quality: 'uncertain',
      asset: 'TRUCK-XH-01',
      fields: {
        lat: 32,
        lat_min: 30,
        lat_max: 32,
        lat_mean: 31,
        speed_kmh: 20,
        speed_kmh_min: 0,
        speed_kmh_max: 20,
        speed_kmh_mean: 10,
        valve_open: true,
        sample_count: 3,
        window_s: 60,
        first_ts: T0,
        compacted: true,
      },
    });
    // What the hub validates: field names stay snake_case, values stay finite.
    expect(readingSchema.safeParse(c).success).toBe(true);
    expect(sampleCount(c)).toBe(3);
    expect(sampleCount(gps(0))).toBe(1);
  });

  it('merges compacted readings again exactly: weighted mean, extremes, counts, first timestamp', () => {
    const a = compactReadings([gps(0), gps(1), gps(2)], 60_000); // lat 30..32, mean 31, n 3
    const b = compactReadings([gps(10)], 60_000); // lat 40, n 1
    const merged = compactReadings([b, a], 900_000);
    expect(merged.fields).toMatchObject({
      lat: 40,
      lat_min: 30,
      lat_max: 40,
      lat_mean: (31 * 3 + 40) / 4,
      sample_count: 4,
      window_s: 900,
      first_ts: T0,
      compacted: true,
    });
    // No statistics of statistics.
    expect(Object.keys(merged.fields).some((k) => k.includes('_min_') || k.endsWith('_mean_mean'))).toBe(false);
  });

  it('keeps the gateway-clock flag when any sample had it, and only the last value of strings', () => {
    const c = compactReadings(
      [{ ...gps(0, { surface_state: 'dry' }), gatewayClock: true }, gps(1, { surface_state: 'wet' })],
      60_000,
    );
    expect(c.gatewayClock).toBe(true);
    expect(c.fields.surface_state).toBe('wet');
    expect(c.fields).not.toHaveProperty('surface_state_min');
  });

  it('groups by device, kind and window', () => {
    expect(windowKey(gps(0), 60_000)).toBe(windowKey(gps(1), 60_000));
    expect(windowKey(gps(0), 60_000)).not.toBe(windowKey(gps(60), 60_000));
    expect(windowKey(gps(0), 60_000)).not.toBe(windowKey({ ...gps(0), device: 'XH-GP002' }, 60_000));
  });
});
