/**
 * The drills' pure parts: seeded scenarios, the example city scaled to N districts (valid against
 * the city schema, gateways with their loggers), compressed rule durations, and the report's
 * percentiles and sample-interval change detection.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compressRules, durationMs } from '../../bin/commands/drill-setup.js';
import { cityConfigSchema } from '../../config/schema/city.js';
import { drillGatewayConfig, scaleCity } from '../../simulators/drills/city.js';
import { intervalChanges, percentile } from '../../simulators/drills/report.js';
import { floodScenario, snowScenario } from '../../simulators/drills/scenario.js';
import { ROOT } from '../helpers/cli-process.js';

const read = (f: string) =>
  parse(readFileSync(path.join(ROOT, 'config/examples', f), 'utf8')) as Record<string, unknown>;
const exampleCity = read('city.yaml');
const exampleGateways = [read('gateways/gw-xh-01.yaml'), read('gateways/gw-gs-01.yaml')];

describe('drill scenarios', () => {
  const city = { gateways: ['gw-a', 'gw-b', 'gw-c'], underpasses: ['UP-1', 'UP-2', 'UP-3'], roads: ['RW-1'] };

  it('are the same storm for the same seed and another for another seed', () => {
    expect(floodScenario(city, 7)).toEqual(floodScenario(city, 7));
    const labels = (s: number) => floodScenario(city, s).steps.map((x) => x.label);
    expect(new Set([1, 2, 3, 4, 5].map((s) => labels(s).join('|'))).size).toBeGreaterThan(1);
  });

  it('flood: rain rises to a downpour and stops, the uplink is cut and restored, a hotline report, then the close', () => {
    const s = floodScenario(city, 1);
    const at = s.steps.map((x) => x.atMin);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(Math.max(...at)).toBeLessThan(s.lengthMin);
    const rain = s.steps.flatMap((x) => (x.step.kind === 'rain' ? [x.step.mmh] : []));
    expect(Math.max(...rain)).toBeGreaterThanOrEqual(45);
    expect(rain.at(-1)).toBe(0);
    const kinds = s.steps.map((x) => x.step.kind);
    expect(kinds.indexOf('cut-uplink')).toBeLessThan(kinds.indexOf('restore-uplink'));
    expect(kinds.at(-1)).toBe('close-incidents');
    const hotline = s.steps.find((x) => x.step.kind === 'hotline')?.step;
    expect(hotline).toMatchObject({ category: 'event:0406' });
    expect(city.underpasses).toContain((hotline as { asset: string }).asset);
  });

  it('snow: a cooling trend below 0 °C with precipitation before and after the surfaces freeze', () => {
    const s = snowScenario(city, 1);
    const trend = s.steps.find((x) => x.step.kind === 'air-trend')?.step as { cPerHour: number; targetC: number };
    expect(trend.cPerHour).toBeLessThan(0);
    expect(trend.targetC).toBeLessThan(0);
    expect(s.steps.filter((x) => x.step.kind === 'rain' && x.step.mmh > 0)).toHaveLength(2);
    expect(s.steps.map((x) => x.step.kind)).toContain('cut-uplink');
  });
});

describe('the example city scaled', () => {
  it('as shipped for 2 districts: 2 gateways with their structure loggers, no cameras', () => {
    const c = scaleCity(exampleCity, exampleGateways, 2);
    expect(cityConfigSchema.safeParse(c.city).success).toBe(true);
    expect(c.gateways.map((g) => g.id)).toEqual(['gw-xh-01', 'gw-gs-01']);
    expect(c.gateways[0]?.devices.map((d) => d.model)).toEqual([
      'BRG-DL-1',
      'TUN-ENV-1',
      'UPS-WL-1',
      'UPS-WL-1',
      'RWS-1',
    ]);
    expect(c.underpasses).toEqual(['UP-XH-001', 'UP-XH-002', 'UP-GS-001', 'UP-GS-002']);
    expect((c.city.assets as { cameras?: unknown }[]).every((a) => a.cameras === undefined)).toBe(true);
  });

  it('to 20 districts: a valid city, unique ids, every cloned device on a cloned asset of its district', () => {
    const c = scaleCity(exampleCity, exampleGateways, 20);
    const parsed = cityConfigSchema.safeParse(c.city);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(c.gateways).toHaveLength(20);
    const devices = c.gateways.flatMap((g) => g.devices);
    expect(devices).toHaveLength(100);
    expect(new Set(devices.map((d) => d.id)).size).toBe(100);
    expect(c.underpasses).toHaveLength(40);
    const assets = new Map((c.city.assets as { id: string; district: string }[]).map((a) => [a.id, a]));
    for (const g of c.gateways) for (const d of g.devices) expect(assets.get(d.asset)?.district).toBe(g.district);
    expect(c.gateways[6]).toMatchObject({ id: 'gw-d07', district: 'd07' });
    expect(c.gateways[6]?.devices[2]).toMatchObject({ id: 'D07-UP001', asset: 'UP-D07-001', kind: 'flood' });
  });

  it('to 1 district: only what is in it (assets, routes, roads, vehicles)', () => {
    const c = scaleCity(exampleCity, exampleGateways, 1);
    const parsed = cityConfigSchema.safeParse(c.city);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(c.gateways.map((g) => g.id)).toEqual(['gw-xh-01']);
    expect(c.underpasses).toEqual(['UP-XH-001', 'UP-XH-002']);
  });

  it('gateway configs point each logger at its simulator endpoint at the drill interval', () => {
    const [gw] = scaleCity(exampleCity, exampleGateways, 1).gateways;
    const cfg = drillGatewayConfig(gw as NonNullable<typeof gw>, {
      hubUrl: 'mqtt://127.0.0.1:1',
      passwordRef: '${PW}',
      dataDir: './e',
      intervalMs: 2500,
      endpoint: (id) => ({ port: id.length, unit: 3 }),
    });
    expect((cfg.devices as Record<string, unknown>[])[2]).toEqual({
      id: 'XH-UP001',
      kind: 'flood',
      driver: 'modbus-tcp-logger',
      asset: 'UP-XH-001',
      options: { host: '127.0.0.1', port: 8, unit: 3, model: 'UPS-WL-1', interval: '2500ms' },
    });
  });
});

describe('compressed rules', () => {
  it('divides rule durations by the speedup, keeping a floor for staleness', () => {
    const out = compressRules(read('rules.yaml'), 60, { minSilenceMs: 4000 }).rules as Record<string, unknown>[];
    const byId = new Map(out.map((r) => [r.id, r]));
    expect(byId.get('underpass-waterlogging')).toMatchObject({ minDuration: '1000ms', hold: '10000ms' });
    expect(byId.get('underpass-gauge-silent')?.maxSilence).toEqual({ normal: '15000ms', flood: '5000ms' });
    const fast = compressRules(read('rules.yaml'), 600, { minSilenceMs: 4000 }).rules as Record<string, unknown>[];
    expect(fast.find((r) => r.id === 'underpass-gauge-silent')?.maxSilence).toEqual({
      normal: '4000ms',
      flood: '4000ms',
    });
    expect(durationMs('1.5h')).toBe(5_400_000);
    expect(durationMs('soon')).toBeUndefined();
  });
});

describe('report arithmetic', () => {
  it('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('finds an interval change and the change back, ignoring jitter', () => {
    const gaps = [
      ...Array.from({ length: 10 }, (_, i) => 1000 + (i % 2) * 30),
      ...Array.from({ length: 20 }, () => 200),
      ...Array.from({ length: 10 }, () => 1000),
    ];
    const ts = gaps.map((_, i) => gaps.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const changes = intervalChanges(ts, 0);
    expect(changes.map((c) => [c.fromS, c.toS])).toEqual([
      [1, 0.2],
      [0.2, 1],
    ]);
    expect(intervalChanges([1, 2], 0)).toEqual([]);
  });
});
