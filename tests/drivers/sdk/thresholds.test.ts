/** Edge-local thresholds: raise at once, clear with hysteresis, one event per transition. */
import { describe, expect, it } from 'vitest';
import { evaluateThresholds, type Limits, limitSchema, type ThresholdState } from '../../../drivers/sdk/thresholds.js';

const limits: Limits = {
  water_level_cm: [
    limitSchema.parse({ high: 15, hysteresis: 5, severity: 'warning', level: 'yellow' }),
    limitSchema.parse({ high: 25, hysteresis: 5, severity: 'critical', level: 'closure' }),
  ],
  surface_temp_c: [limitSchema.parse({ low: 0, hysteresis: 1 })],
};

/** Feeds a series of values for one field; returns the event types with level per step. */
function run(field: string, values: number[], skipAt: number[] = []): string[][] {
  let state: ThresholdState = [];
  return values.map((v, i) => {
    const r = evaluateThresholds(limits, { [field]: v }, state, new Set(skipAt.includes(i) ? [field] : []));
    state = r.state;
    return r.events.map((e) => `${e.type}${e.data.level ? `/${e.data.level}` : ''}`);
  });
}

describe('evaluateThresholds', () => {
  it('raises each level once when crossed, and clears it only below limit − hysteresis', () => {
    expect(run('water_level_cm', [10, 15, 20, 26, 30, 22, 20.5, 19.9, 12, 9.9])).toEqual([
      [],
      ['threshold.high/yellow'],
      [],
      ['threshold.high/closure'],
      [],
      [],
      [],
      ['threshold.clear/closure'],
      [],
      ['threshold.clear/yellow'],
    ]);
  });

  it('a value hovering at the limit does not chatter', () => {
    expect(run('water_level_cm', [15, 14.9, 15, 14, 15.2, 11]).flat()).toEqual(['threshold.high/yellow']);
  });

  it('low limits raise at or below and clear above limit + hysteresis', () => {
    expect(run('surface_temp_c', [3, 0, -2, 0.5, 1.01]).flat()).toEqual(['threshold.low', 'threshold.clear']);
  });

  it('a value the reading marks bad neither raises nor clears', () => {
    expect(run('water_level_cm', [999, 16, 0, 0], [0, 2]).flat()).toEqual([
      'threshold.high/yellow',
      'threshold.clear/yellow',
    ]);
  });

  it('the event carries field, value, limit, direction, hysteresis and severity', () => {
    const r = evaluateThresholds(limits, { water_level_cm: 27.5 }, []);
    expect(r.events[1]).toEqual({
      type: 'threshold.high',
      severity: 'critical',
      data: { field: 'water_level_cm', value: 27.5, limit: 25, direction: 'high', hysteresis: 5, level: 'closure' },
    });
    expect(r.state).toEqual(['water_level_cm:0', 'water_level_cm:1']);
  });

  it('state given back (after a restart) does not raise again', () => {
    expect(evaluateThresholds(limits, { water_level_cm: 27 }, ['water_level_cm:0', 'water_level_cm:1']).events).toEqual(
      [],
    );
  });

  it('the schema wants exactly one of high and low', () => {
    expect(limitSchema.safeParse({ high: 1, low: 0 }).success).toBe(false);
    expect(limitSchema.safeParse({}).success).toBe(false);
    expect(limitSchema.parse({ low: 2 })).toEqual({ low: 2, hysteresis: 0, severity: 'warning' });
  });
});
