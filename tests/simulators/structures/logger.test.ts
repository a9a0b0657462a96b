/**
 * The simulated loggers serve their signals in the layout of the register maps the driver reads:
 * the driver's own decoder (an independent implementation) gets back what the simulator says it
 * serves, for every shipped model; overrides and channel faults reach it as bad readings.
 */
import { describe, expect, it } from 'vitest';
import { decodeRegisters, type RegisterMapInput, registerMapSchema } from '../../../drivers/modbus/register-map.js';
import { SimLogger } from '../../../simulators/structures/logger.js';
import type { BridgeSignals } from '../../../simulators/structures/signals/bridge.js';
import { Scene, STRUCTURE_KINDS, type StructureKind } from '../../../simulators/structures/signals/scene.js';

const START = Date.UTC(2026, 0, 15, 0, 0, 0); // 08:00 in Hangzhou: rush hour

function loggerOf(kind: StructureKind, at = START + 3_600_000) {
  const scene = new Scene({ startMs: START, seed: 2 });
  const logger = new SimLogger({
    id: `${kind}-1`,
    kind,
    unit: 1,
    signals: scene.add(kind, 1),
    scene,
    clock: { now: () => at, speedup: 1, elapsedRealMs: () => at - START },
  });
  return { scene, logger };
}

function readBlocks(logger: SimLogger) {
  const map = registerMapSchema.parse(logger.map);
  return { map, blocks: map.blocks.map((b) => logger.read('input', b.start, b.count) as number[]) };
}

describe('simulated loggers', () => {
  it.each(STRUCTURE_KINDS)('%s: the driver decodes exactly the values the simulator serves', (kind) => {
    const { logger } = loggerOf(kind);
    const { map, blocks } = readBlocks(logger);
    const decoded = decodeRegisters(map, blocks);
    expect(decoded.bad).toEqual([]);
    const served = logger.values();
    const expected = Object.fromEntries(
      map.points.map((p) => {
        const v = served[p.field] as number;
        if (p.enum) return [p.field, p.enum[String(v)]];
        return [p.field, p.type === 'f32' ? v : Math.round((v - p.offset) / p.scale) * p.scale + p.offset];
      }),
    );
    for (const [field, value] of Object.entries(expected)) {
      if (typeof value === 'number') expect(decoded.fields[field], field).toBeCloseTo(value, 4);
      else expect(decoded.fields[field], field).toBe(value);
    }
  });

  it('the bridge serves its acceleration buffer: sample counter and the latest samples in g', () => {
    const at = START + 3_600_000 + 123;
    const { scene, logger } = loggerOf('bridge', at);
    const w = registerMapSchema.parse(logger.map).waveform;
    if (!w) throw new Error('BRG-DL-1 has a waveform');
    const [hi, lo] = logger.read('input', w.counterAddress, 2) as [number, number];
    const taken = hi * 65536 + lo;
    expect(taken).toBe(Math.floor(((at - START) * w.rateHz) / 1000));
    const raw = logger.read('input', w.address, w.count) as number[];
    const bridge = logger.signals as BridgeSignals;
    const last = raw[raw.length - 1] as number;
    const lastG = (last >= 0x8000 ? last - 0x10000 : last) * w.scale;
    expect(lastG).toBeCloseTo(bridge.accelerationG(scene.env, START + ((taken - 1) * 1000) / w.rateHz), 3);
    expect(raw.some((r) => r !== 0)).toBe(true);
  });

  it('samples acceleration in real time when sim time runs 60× faster: reads half a buffer apart overlap exactly', () => {
    const scene = new Scene({ startMs: START, seed: 2 });
    let real = 3_600_000;
    const clock = { now: () => START + real * 60, speedup: 60, elapsedRealMs: () => real };
    const logger = new SimLogger({
      id: 'bridge-1',
      kind: 'bridge',
      unit: 1,
      signals: scene.add('bridge', 1),
      scene,
      clock,
    });
    const w = registerMapSchema.parse(logger.map).waveform;
    if (!w) throw new Error('BRG-DL-1 has a waveform');
    const read = () => {
      const [hi, lo] = logger.read('input', w.counterAddress, 2) as [number, number];
      return { counter: hi * 65536 + lo, samples: logger.read('input', w.address, w.count) as number[] };
    };
    const first = read();
    real += 500;
    const second = read();
    expect(second.counter - first.counter).toBe(50);
    expect(second.samples.slice(0, 50)).toEqual(first.samples.slice(50));
  });

  it('serves an inline map of a model citygrid does not ship (holding registers, CDAB), read-only', () => {
    // the modbus-tcp-logger sample's ACME-WL-7 gauge
    const acme: RegisterMapInput = {
      model: 'ACME-WL-7',
      title: 'ACME underpass level gauge',
      kind: 'flood',
      blocks: [{ function: 3, start: 100, count: 4 }],
      points: [
        { field: 'water_level_cm', function: 3, address: 100, type: 'f32', order: 'CDAB', range: { min: 0, max: 300 } },
        { field: 'rain_intensity_mmh', function: 3, address: 102, type: 'u16', scale: 0.1 },
      ],
    };
    const scene = new Scene({ startMs: START, seed: 2 });
    const signals = scene.add('underpass', 1);
    const clock = { now: () => START + 7_200_000, speedup: 1, elapsedRealMs: () => 7_200_000 };
    scene.env.setRain(25);
    const logger = new SimLogger({ id: 'UP-1', kind: 'underpass', unit: 1, signals, scene, clock, map: acme });
    const map = registerMapSchema.parse(acme);
    const decoded = decodeRegisters(map, [logger.read('holding', 100, 4) as number[]]);
    expect(decoded.bad).toEqual([]);
    expect(decoded.fields.water_level_cm).toBeCloseTo(logger.values().water_level_cm as number, 4);
    expect(decoded.fields.water_level_cm).toBeGreaterThan(0);
    expect(decoded.fields.rain_intensity_mmh).toBeCloseTo(25, 5);
    expect(logger.read('input', 100, 1)).toBeUndefined();
    expect(logger.write(100, [0])).toBe(0x02);
    expect(logger.read('input', 0x0000, 1)).toBeUndefined(); // the UPS-WL-1 layout is not served with another map
  });

  it('refuses a map that reads a field its structure model does not produce', () => {
    const scene = new Scene({ startMs: START, seed: 2 });
    const clock = { now: () => START, speedup: 1, elapsedRealMs: () => 0 };
    const map: RegisterMapInput = {
      model: 'X',
      title: 'x',
      kind: 'flood',
      blocks: [{ function: 4, start: 0, count: 1 }],
      points: [{ field: 'co_ppm', function: 4, address: 0, type: 'u16' }],
    };
    expect(
      () =>
        new SimLogger({ id: 'u', kind: 'underpass', unit: 1, signals: scene.add('underpass', 1), scene, clock, map }),
    ).toThrow(/X reads co_ppm, which the underpass model does not produce/);
  });

  it('refuses registers the logger does not have, and keeps its configuration in holding registers', () => {
    const { logger } = loggerOf('tunnel');
    expect(logger.read('input', 0x0000, 10)).toHaveLength(10);
    expect(logger.read('input', 0x0000, 11)).toBeUndefined();
    expect(logger.read('holding', 0x0000, 1)).toBeUndefined();
    expect(logger.read('holding', 0x1000, 3)).toEqual([1, 2, 10]);
    expect(logger.write(0x1002, [60])).toBeUndefined();
    expect(logger.write(0x1002, [0])).toBe(0x03);
    expect(logger.write(0x0000, [1])).toBe(0x02);
    expect(logger.read('holding', 0x0100, 3)).toEqual([150, 120, 0]);
  });

  it('an override outside the physical range and a channel fault reach the driver as bad points', () => {
    const { logger } = loggerOf('bridge');
    logger.setOverride('crack_width_mm', 25);
    logger.setChannelFault('strain_ue', 1);
    const { map, blocks } = readBlocks(logger);
    const decoded = decodeRegisters(map, blocks);
    expect(decoded.bad).toEqual([
      { field: 'strain_ue', reason: 'channel-fault', value: 1 },
      { field: 'crack_width_mm', reason: 'out-of-range', value: 25 },
    ]);
    logger.setOverride('crack_width_mm', undefined);
    logger.setChannelFault('strain_ue', 0);
    expect(decodeRegisters(map, readBlocks(logger).blocks).bad).toEqual([]);
    expect(() => logger.setOverride('co_ppm', 1)).toThrow(/no field/);
  });
});
