import { describe, expect, it } from 'vitest';
import type { Reading } from '../../../drivers/sdk/reading.js';
import { ReadingPoint, readingToPoint, seriesKey } from '../../../hub/src/telemetry/point-mapping.js';

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

describe('ReadingPoint', () => {
  const cases: { name: string; reading: Reading; asset?: string; grid?: string }[] = [
    { name: 'plain', reading },
    {
      name: 'own asset, grid, bad quality',
      reading: { ...reading, asset: 'truck-07', quality: 'bad' },
      asset: 'truck-07',
      grid: 'g1',
    },
    { name: 'inventory asset', reading, asset: 'truck-09' },
    { name: 'a field named quality', reading: { ...reading, fields: { quality: 3, lat: 1 }, quality: 'uncertain' } },
  ];
  it.each(cases)('reads as the point readingToPoint gives ($name)', ({ reading: r, asset, grid }) => {
    const point = new ReadingPoint(r, 'xihu', 'gw-xh-01', asset, grid, 5);
    const plain = readingToPoint(asset && !r.asset ? { ...r, asset } : r, {
      district: 'xihu',
      gateway: 'gw-xh-01',
      resolveGrid: () => grid,
    });
    const { measurement, tags, fields, ts } = point;
    expect({ measurement, tags, fields, ts }).toEqual(plain);
    expect(Object.keys(fields)).toEqual(Object.keys(plain.fields));
    expect(JSON.parse(JSON.stringify(point))).toEqual(plain);
  });

  it('carries what the live bus needs of a placed reading', () => {
    const point = new ReadingPoint(reading, 'xihu', 'gw-xh-01', 'truck-07', 'g1', 42);
    expect([point.reading, point.district, point.gateway, point.asset, point.grid, point.receivedAt]).toEqual([
      reading,
      'xihu',
      'gw-xh-01',
      'truck-07',
      'g1',
      42,
    ]);
  });
});
