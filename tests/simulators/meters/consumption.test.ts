/** The daily curve and the leak / reverse modes, on a fake clock that runs a day in a moment. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../simulators/common/random.js';
import { demandShape, MeterFlow } from '../../../simulators/meters/consumption.js';

const HOUR = 3_600_000;
// 2024-03-15 00:00 in China Standard Time (UTC+8)
const MIDNIGHT_CST = Date.UTC(2024, 2, 14, 16, 0, 0);

/** Volume used in each local hour of one day. */
function hourly(flow: MeterFlow, from = MIDNIGHT_CST): number[] {
  const out: number[] = [];
  for (let h = 0; h < 24; h++) {
    const before = flow.forwardM3 + flow.reverseM3;
    flow.advance(from + (h + 1) * HOUR);
    out.push(flow.forwardM3 + flow.reverseM3 - before);
  }
  return out;
}

describe('daily consumption curve', () => {
  it('peaks in the morning and the evening, is low at night', () => {
    expect(demandShape(7.5)).toBeGreaterThan(10 * demandShape(3));
    expect(demandShape(19.5)).toBeGreaterThan(10 * demandShape(3));
    expect(demandShape(7.5)).toBeGreaterThan(demandShape(12.5));
    expect(demandShape(23.9)).toBeCloseTo(demandShape(-0.1 + 24), 6);
  });

  it('uses about dailyM3 a day, most of it at the peaks, little at night', () => {
    const flow = new MeterFlow({ startMs: MIDNIGHT_CST, dailyM3: 0.5, random: seededRandom(3) });
    const h = hourly(flow);
    const day = h.reduce((a, b) => a + b, 0);
    expect(day).toBeGreaterThan(0.45);
    expect(day).toBeLessThan(0.55);
    const night = (h[2] ?? 0) + (h[3] ?? 0) + (h[4] ?? 0);
    expect(night).toBeLessThan(0.01);
    expect(h[7]).toBeGreaterThan(5 * (h[3] ?? 0));
    expect(h[19]).toBeGreaterThan(5 * (h[3] ?? 0));
    expect(flow.forwardM3).toBeCloseTo(day, 9);
  });

  it('follows the meter local time (UTC offset)', () => {
    const cst = hourly(new MeterFlow({ startMs: MIDNIGHT_CST, dailyM3: 1 }));
    const utc = hourly(new MeterFlow({ startMs: MIDNIGHT_CST, dailyM3: 1, utcOffsetMinutes: 0 }), MIDNIGHT_CST);
    // at UTC+0 the day starts at local 16:00, so the busiest hour (07:00-08:00) is the 16th
    expect(utc.indexOf(Math.max(...utc))).toBe(15);
    expect(cst.indexOf(Math.max(...cst))).toBe(7);
  });

  it('ignores a clock that goes back', () => {
    const flow = new MeterFlow({ startMs: MIDNIGHT_CST, initialM3: 10 });
    flow.advance(MIDNIGHT_CST + 10 * HOUR);
    const v = flow.forwardM3;
    flow.advance(MIDNIGHT_CST + 5 * HOUR);
    expect(flow.forwardM3).toBe(v);
  });
});

describe('modes', () => {
  it('leak: constant flow that keeps running at night', () => {
    const normal = hourly(new MeterFlow({ startMs: MIDNIGHT_CST, dailyM3: 0.5 }));
    const leaking = hourly(new MeterFlow({ startMs: MIDNIGHT_CST, dailyM3: 0.5, leakM3h: 0.02 }));
    expect(leaking[3]).toBeGreaterThanOrEqual(0.02);
    expect(normal[3]).toBeLessThan(0.002);
    const extra = leaking.reduce((a, b) => a + b, 0) - normal.reduce((a, b) => a + b, 0);
    expect(extra).toBeCloseTo(24 * 0.02, 6);
  });

  it('reverse: the reverse counter grows, the forward counter stands, the net reading falls', () => {
    const flow = new MeterFlow({ startMs: MIDNIGHT_CST, dailyM3: 0.5, initialM3: 100, reverse: true });
    flow.advance(MIDNIGHT_CST + 8 * HOUR);
    expect(flow.forwardM3).toBe(100);
    expect(flow.reverseM3).toBeGreaterThan(0.05);
    expect(flow.netM3).toBeCloseTo(100 - flow.reverseM3, 9);
    expect(flow.flowM3h).toBeLessThan(0);
  });
});
