/** Logger options as the config loader validates them: inline maps with path errors, one map source. */
import { describe, expect, it } from 'vitest';
import { driverOptionsValidator } from '../../../drivers/index.js';

function problems(driver: string, options: unknown, placement: 'bus' | 'none'): string[] {
  const r = driverOptionsValidator(driver, options, placement);
  return r.ok ? [] : r.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const inline = {
  model: 'X-1',
  title: 'x',
  kind: 'flood',
  blocks: [{ function: 3, start: 0, count: 2 }],
  points: [{ field: 'water_level_cm', function: 3, address: 0, type: 'u16', scale: 0.1 }],
};

describe('logger options', () => {
  it('accepts a shipped model or an inline map, with durations parsed', () => {
    expect(
      driverOptionsValidator('modbus-logger', { unit: 3, model: 'BRG-DL-1', interval: '5s' }, 'bus'),
    ).toMatchObject({
      ok: true,
      options: { unit: 3, model: 'BRG-DL-1', interval: 5000, waveform: true },
    });
    expect(driverOptionsValidator('modbus-tcp-logger', { host: 'h', map: inline }, 'none')).toMatchObject({
      ok: true,
      options: { port: 502, unit: 1, maxInFlight: 1, responseTimeout: 1000, interval: 10_000 },
    });
  });

  it('names the path of a problem inside an inline map', () => {
    const bad = { ...inline, points: [{ ...inline.points[0], address: 1, type: 'f32' }] };
    expect(problems('modbus-tcp-logger', { host: 'h', map: bad }, 'none')).toEqual([
      'options.map.points.0.address: no read block of function 3 covers registers 1..2',
    ]);
  });

  it('wants exactly one of model and map, and a known model', () => {
    expect(problems('modbus-logger', { unit: 1 }, 'bus')).toEqual([
      'options: give exactly one of "model" (a shipped map) or "map" (an inline one)',
    ]);
    expect(problems('modbus-logger', { unit: 1, model: 'BRG-DL-1', map: inline }, 'bus')).toHaveLength(1);
    expect(problems('modbus-logger', { unit: 1, model: 'BRG-DL-9' }, 'bus')[0]).toMatch(
      /^options\.model: expected one of "BRG-DL-1"/,
    );
  });

  it('puts the RTU logger on a bus and the TCP logger on neither', () => {
    expect(problems('modbus-logger', { unit: 1, model: 'RWS-1' }, 'none')[0]).toMatch(/give "bus/);
    expect(problems('modbus-tcp-logger', { host: 'h', model: 'RWS-1' }, 'bus')[0]).toMatch(/give neither/);
  });
});
