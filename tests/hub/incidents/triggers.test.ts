/** Trigger rules (incidents/triggers.ts): k devices within the window, per district or city-wide. */
import { describe, expect, it } from 'vitest';
import { incidentsConfigSchema } from '../../../config/schema/incidents.js';
import { meets, TriggerEvaluator } from '../../../hub/src/incidents/triggers.js';

const MIN = 60_000;
const { triggers } = incidentsConfigSchema.parse({});
const rain = triggers.find((t) => t.id === 'rain-at-gauges') ?? (undefined as never);
const ice = triggers.find((t) => t.id === 'wet-freezing-roads') ?? (undefined as never);
const gauge = (device: string, district: string, min: number, mmh: number) => ({
  device,
  kind: 'flood',
  district,
  ts: min * MIN,
  fields: { rain_intensity_mmh: mmh, water_level_cm: 3 },
});

describe('trigger rules', () => {
  it('k=2 gauges of one district over 30 mm/h within 15 min propose for that district', () => {
    const ev = new TriggerEvaluator([rain]);
    expect(ev.onReading(gauge('XH-UP01', 'xihu', 0, 35))).toEqual([]);
    // Another district's gauge does not count for xihu.
    expect(ev.onReading(gauge('GS-UP01', 'gongshu', 1, 40))).toEqual([]);
    const [v] = ev.onReading(gauge('XH-UP02', 'xihu', 5, 31));
    expect(v).toMatchObject({ district: 'xihu', trigger: { id: 'rain-at-gauges', type: 'flood' } });
    expect(v?.evidence.devices.map((d) => d.device)).toEqual(['XH-UP01', 'XH-UP02']);
    expect(v?.evidence.devices[0]?.values).toEqual({ rain_intensity_mmh: 35 });
  });

  it('a device stops counting outside the window, or when its reading no longer meets the condition', () => {
    const ev = new TriggerEvaluator([rain]);
    ev.onReading(gauge('XH-UP01', 'xihu', 0, 35));
    expect(ev.onReading(gauge('XH-UP02', 'xihu', 16, 35))).toEqual([]);
    ev.onReading(gauge('XH-UP03', 'xihu', 17, 10));
    ev.onReading(gauge('XH-UP02', 'xihu', 18, 10));
    expect(ev.onReading(gauge('XH-UP03', 'xihu', 19, 50))).toEqual([]);
    ev.tick(19 * MIN + 16 * MIN);
    expect(ev.counts(35 * MIN)).toEqual([]);
  });

  it('a reading without the fields says nothing; string conditions match by value', () => {
    expect(meets(ice, { surface_temp_c: -1 })).toBeUndefined();
    expect(meets(ice, { surface_temp_c: -1, surface_state: 'wet' })).toBe(true);
    expect(meets(ice, { surface_temp_c: -1, surface_state: 'dry' })).toBe(false);
    expect(meets(ice, { surface_temp_c: 2, surface_state: 'ice' })).toBe(false);
  });

  it('a city-wide trigger counts stations of every district together', () => {
    const ev = new TriggerEvaluator([ice]);
    const rws = (device: string, district: string, min: number) => ({
      device,
      kind: 'road_weather',
      district,
      ts: min * MIN,
      fields: { surface_temp_c: -0.5, surface_state: 'ice' },
    });
    expect(ev.onReading(rws('XH-RW01', 'xihu', 0))).toEqual([]);
    const [v] = ev.onReading(rws('GS-RW01', 'gongshu', 20));
    expect(v).toMatchObject({ trigger: { type: 'snow' } });
    expect(v?.district).toBeUndefined();
    expect(ev.counts(20 * MIN)).toEqual([{ trigger: 'wet-freezing-roads', devices: 2, k: 2 }]);
  });
});
