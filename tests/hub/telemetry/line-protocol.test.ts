import Influx from 'influx';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../../drivers/sdk/reading.js';
import { LineProtocolEncoder, toLineProtocol } from '../../../hub/src/telemetry/line-protocol.js';
import { ReadingPoint, readingToPoint } from '../../../hub/src/telemetry/point-mapping.js';
import type { TelemetryPoint } from '../../../hub/src/telemetry/types.js';

/** What the `influx` package's writePoints would send for the same points (its serialiser, no HTTP). */
function packageLines(points: TelemetryPoint[]): string[] {
  const influx = new Influx.InfluxDB({ database: 'x' });
  return points.map((p) => {
    const parsed = influx.parsePoint(
      { measurement: p.measurement, tags: p.tags, fields: p.fields, timestamp: p.ts },
      { precision: 'ms' },
    );
    const tags = parsed.tagsNames.map((t) => `,${Influx.escape.tag(t)}=${Influx.escape.tag(p.tags[t] as string)}`);
    const fields = parsed.fieldsPairs.map(([k, v]) => `${Influx.escape.tag(k)}=${v}`).join(',');
    return `${parsed.measurement}${tags.join('')} ${fields} ${parsed.castedTimestamp}`;
  });
}

/** Field order does not matter to InfluxDB: compare lines with their fields sorted. */
function normalise(line: string): string {
  const parts = line.split(/(?<!\\) /);
  const fields = (parts[1] ?? '').split(/(?<!\\),/).sort();
  return `${parts[0]} ${fields.join(',')} ${parts[2]}`;
}

describe('toLineProtocol', () => {
  const points: TelemetryPoint[] = [
    {
      measurement: 'vehicle',
      tags: { device: 'TRUCK-XH-01', district: 'xihu', gateway: 'gw-xh-01', grid: '330106001001' },
      fields: { lat: 30.27, lon: 120.1, speed_kmh: 19, quality: 'good', moving: true },
      ts: 1_710_491_445_000,
    },
    {
      measurement: 'event',
      tags: { device: 'a b', district: 'x,y', gateway: 'g=1', severity: 'info', type: 'device.offline' },
      fields: { data: '{"why":"a\\"quote\\"and\\\\slash"}', count: 1 },
      ts: 1_710_491_445_001,
    },
    {
      measurement: 'water_meter',
      tags: { device: 'WM-1', district: 'gongshu', gateway: 'gw-gs-01' },
      fields: { volume_m3: 12345.678, 'odd key=1': -0.5, battery_low: false, quality: 'bad' },
      ts: 1,
    },
  ];

  it('writes what the influx package writes, one line per point', () => {
    const ours = toLineProtocol(points).split('\n');
    expect(ours).toHaveLength(points.length);
    expect(ours.map(normalise)).toEqual(packageLines(points).map(normalise));
  });

  it('escapes what the line protocol needs escaped', () => {
    const line = toLineProtocol([
      { measurement: 'event', tags: { device: 'a b', gateway: 'g=1,2' }, fields: { text: 'say "hi" \\ ok' }, ts: 7 },
    ]);
    expect(line).toBe(String.raw`event,device=a\ b,gateway=g\=1\,2 text="say \"hi\" \\ ok" 7`);
  });

  it('is empty for no points', () => {
    expect(toLineProtocol([])).toBe('');
  });
});

describe('toLineProtocol of ReadingPoints', () => {
  const base: Reading = { device: 'XH-WM001', kind: 'water_meter', ts: 1_710_491_445_000, fields: { total_m3: 12.5 } };
  const cases: { reading: Reading; asset?: string; grid?: string; district?: string }[] = [
    { reading: base },
    { reading: { ...base, quality: 'bad', asset: 'wm-1' }, asset: 'wm-1', grid: '330106001001' },
    { reading: base, asset: 'wm-2', grid: 'cell a,b=c' },
    { reading: { ...base, fields: { flag: true, off: false, note: 'say "hi" \\ ok', n: -0.000001, big: 1e21 } } },
    { reading: { ...base, fields: { a: 1, quality: 2, b: 3 }, quality: 'uncertain' } },
    { reading: { ...base, fields: { 'odd key': 1, 'x,y=z': 2, 名称: '西湖' } }, district: 'west lake' },
  ];

  it('writes exactly the line of the equivalent plain point', () => {
    for (const { reading, asset, grid, district = 'xihu' } of cases) {
      const fast = new ReadingPoint(reading, district, 'gw-xh-01', asset, grid, 0);
      const plain = readingToPoint(asset && !reading.asset ? { ...reading, asset } : reading, {
        district,
        gateway: 'gw-xh-01',
        resolveGrid: () => grid,
      });
      expect(new LineProtocolEncoder().text([fast])).toBe(toLineProtocol([plain]));
      expect(new LineProtocolEncoder().body([fast]).equals(Buffer.from(toLineProtocol([plain]), 'utf8'))).toBe(true);
    }
  });

  it('writes every line of a large batch, growing its buffer, the same as the string form', () => {
    const points = Array.from({ length: 3000 }, (_, i) => {
      const fields = { total_m3: i / 7, note: i % 3 === 0 ? `西湖-${'x'.repeat(i % 300)}` : 'ok', odd: i % 2 === 0 };
      return new ReadingPoint({ ...base, ts: base.ts + i, fields }, 'xihu', `gw-${i % 5}`, undefined, undefined, 0);
    });
    const plain = points.map((p) => p.toJSON());
    expect(new LineProtocolEncoder().body(points).equals(Buffer.from(toLineProtocol(plain), 'utf8'))).toBe(true);
  });

  it('mixes ReadingPoints and plain points in one body, UTF-8 encoded', () => {
    const mixed = [
      new ReadingPoint(cases[5]?.reading as Reading, 'xihu', 'gw-xh-01', undefined, undefined, 0),
      { measurement: 'event', tags: { device: 'd' }, fields: { data: '{}', count: 1 }, ts: 2 },
    ];
    const text = toLineProtocol(mixed);
    expect(text.split('\n')).toHaveLength(2);
    const body = new LineProtocolEncoder().body(mixed);
    expect(body.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(body.toString('utf8')).toContain('名称="西湖"');
  });

  it('an encoder reused across writes follows a device whose tags change', () => {
    const encoder = new LineProtocolEncoder();
    const placements: [string, string, string | undefined, string | undefined][] = [
      ['xihu', 'gw-xh-01', undefined, undefined],
      ['xihu', 'gw-xh-01', undefined, undefined],
      ['xihu', 'gw-xh-02', undefined, undefined],
      ['gongshu', 'gw-xh-02', undefined, undefined],
      ['gongshu', 'gw-xh-02', 'wm-1', undefined],
      ['gongshu', 'gw-xh-02', 'wm-1', 'cell-9'],
      ['gongshu', 'gw-xh-02', 'wm-1', 'cell-9'],
    ];
    for (const [i, [district, gateway, asset, grid]] of placements.entries()) {
      const kind = i === 6 ? 'water_quality' : base.kind;
      const point = new ReadingPoint({ ...base, kind, ts: base.ts + i }, district, gateway, asset, grid, 0);
      expect(encoder.text([point])).toBe(toLineProtocol([{ ...point.toJSON() }]));
    }
  });
});
