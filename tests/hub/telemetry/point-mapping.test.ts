import { describe, expect, it } from 'vitest';
import type { Reading } from '../../../drivers/sdk/reading.js';
import { readingToPoint, seriesKey } from '../../../hub/src/telemetry/point-mapping.js';

const reading: Reading = {
  device: 'XH-GPS-001',
  kind: 'vehicle',
  ts: 1_700_000_000_123,
  fields: { lat: 31.18, lon: 121.43, speed_kmh: 22.5, fix_quality: 1 },
};

describe('readingToPoint', () => {
  it('maps kind to measurement, topic and city context to tags, fields as they are plus quality, ts in ms', () => {
    const point = readingToPoint(
      { ...reading, asset: 'truck-07' },
      { district: 'xuhui', gateway: 'gw-xh-01', resolveGrid: () => 'XH-03' },
    );
    expect(point).toEqual({
      measurement: 'vehicle',
      tags: { asset: 'truck-07', device: 'XH-GPS-001', district: 'xuhui', gateway: 'gw-xh-01', grid: 'XH-03' },
      fields: { lat: 31.18, lon: 121.43, speed_kmh: 22.5, fix_quality: 1, quality: 'good' },
      ts: 1_700_000_000_123,
    });
  });

  it('leaves asset and grid out when unknown and keeps a non-good quality as a string field', () => {
    const point = readingToPoint(
      { ...reading, quality: 'bad' },
      { district: 'xuhui', gateway: 'gw-xh-01', resolveGrid: () => undefined },
    );
    expect(point.tags).toEqual({ device: 'XH-GPS-001', district: 'xuhui', gateway: 'gw-xh-01' });
    expect(point.fields.quality).toBe('bad');
  });

  it('passes the reading to the grid resolver', () => {
    const seen: Reading[] = [];
    readingToPoint(reading, {
      district: 'd',
      gateway: 'g',
      resolveGrid: (r) => {
        seen.push(r);
        return undefined;
      },
    });
    expect(seen).toEqual([reading]);
  });
});

describe('seriesKey', () => {
  it('does not depend on tag order', () => {
    expect(seriesKey({ b: '2', a: '1' })).toBe(seriesKey({ a: '1', b: '2' }));
    expect(seriesKey({ a: '1,b=2' })).not.toBe(seriesKey({ a: '1', b: '2' }));
  });
});
