/** Road-closure recommendations (incidents/closures.ts): raise at the closure depth, lift with hysteresis. */
import { describe, expect, it } from 'vitest';
import { incidentsConfigSchema } from '../../../config/schema/incidents.js';
import { ClosureMonitor } from '../../../hub/src/incidents/closures.js';

const MIN = 60_000;
const cfg = incidentsConfigSchema.parse({
  closures: { assets: { 'UP-XH-002': { closeAtCm: 27, liftBelowCm: 22 } } },
}).closures;

describe('closure recommendations', () => {
  it('raised at 25 cm, kept while the depth bobs around it, lifted after 10 min below 20 cm', () => {
    const m = new ClosureMonitor(cfg);
    const at = (min: number, cm: number) =>
      m.onDepth('UP-XH-001', 'XH-UP01', cm, min * MIN, () => ({ incident: 'INC-1' }));
    expect(at(0, 20)).toBeUndefined();
    expect(at(1, 24.9)).toBeUndefined();
    const raised = at(2, 25);
    expect(raised).toMatchObject({
      action: 'raised',
      closure: {
        asset: 'UP-XH-001',
        inForce: true,
        raisedDepthCm: 25,
        closeAtCm: 25,
        liftBelowCm: 20,
        incident: 'INC-1',
      },
    });
    expect(at(3, 31)).toBeUndefined();
    expect(at(4, 24)).toBeUndefined();
    expect(at(5, 26)).toBeUndefined();
    expect(at(10, 19)).toBeUndefined();
    // Back above the lift depth: the hold starts again.
    expect(at(15, 21)).toBeUndefined();
    expect(at(16, 18)).toBeUndefined();
    expect(at(25, 12)).toBeUndefined();
    const lifted = at(26, 10);
    expect(lifted).toMatchObject({
      action: 'lifted',
      closure: { inForce: false, liftedAt: 26 * MIN, liftedDepthCm: 10, maxDepthCm: 31, raisedAt: 2 * MIN },
    });
    expect(m.inForce()).toEqual([]);
    expect(at(27, 26)?.action).toBe('raised');
  });

  it('takes the deepest gauge of an asset, per-asset depths, and keeps closures across a restart', () => {
    const m = new ClosureMonitor(cfg);
    m.onDepth('UP-XH-002', 'A', 26, 0);
    expect(m.inForce()).toEqual([]);
    expect(m.onDepth('UP-XH-002', 'B', 27, MIN)?.closure).toMatchObject({ closeAtCm: 27, liftBelowCm: 22 });
    // Gauge A falling does not lift: B still reads 27.
    expect(m.onDepth('UP-XH-002', 'A', 5, 20 * MIN)).toBeUndefined();
    expect(m.depth('UP-XH-002')).toBe(27);
    const again = new ClosureMonitor(cfg);
    again.load(m.inForce());
    expect(again.inForce()).toHaveLength(1);
    again.onDepth('UP-XH-002', 'B', 5, 30 * MIN);
    expect(again.onDepth('UP-XH-002', 'B', 5, 41 * MIN)?.action).toBe('lifted');
  });

  it('gives the trend over the last 15 minutes', () => {
    const m = new ClosureMonitor(cfg);
    expect(m.trend('UP-XH-001')).toEqual({ trend: 'unknown' });
    for (let min = 0; min <= 10; min++) m.onDepth('UP-XH-001', 'g', 5 + min, min * MIN);
    expect(m.trend('UP-XH-001')).toEqual({ trend: 'rising', cmPerHour: 60 });
    for (let min = 11; min <= 40; min++) m.onDepth('UP-XH-001', 'g', 15, min * MIN);
    expect(m.trend('UP-XH-001')).toEqual({ trend: 'steady', cmPerHour: 0 });
  });
});
