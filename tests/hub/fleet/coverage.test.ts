/**
 * The coverage judge on the two-road network of ./network.ts, with the expected figures computed by
 * hand (in the comments next to each track).
 */
import { describe, expect, it } from 'vitest';
import { CoverageJudge, type Fix } from '../../../hub/src/fleet/judge.js';
import { LocalDays } from '../../../hub/src/fleet/local-day.js';
import { dailyTasks, pooledTask } from '../../../hub/src/fleet/plan.js';
import { east, fix, north, off, params, ROAD_A, ROAD_B, sh, vehicle } from './network.js';

const DAY = '2026-06-01';
const days = new LocalDays('Asia/Shanghai');

/** A judge with today's daily tasks of the vehicles. */
function judgeOf(vehicles = [vehicle('SW-1')], over = {}) {
  const p = params(vehicles, over);
  const j = new CoverageJudge(p);
  j.setTasks(dailyTasks(p.vehicles, p.roles, p.roads, days, DAY));
  return j;
}

/** Fixes every 20 s from `start`: at 100 m per 20 s that is 18 km/h, inside the sweeper band 3–20. */
function drive(points: [number, number][], start: number, gear: boolean, speedKmh = 18): Fix[] {
  return points.map((p, i) => fix(p, start + i * 20_000, speedKmh, gear));
}

const hundreds = (from: number, to: number) => {
  const out: number[] = [];
  for (let m = from; m <= to; m += 100) out.push(m);
  return out;
};

describe('coverage of a segment = share of its length driven while working', () => {
  it('counts 600 m working of A, not 400 m with the gear off, not a gap on B, not an off-route stretch', () => {
    const j = judgeOf();
    const t0 = sh(`${DAY} 07:00`);
    const track: Fix[] = [
      // A, 0 -> 600 m, gear on, 18 km/h: 6 stretches of 100 m counted -> A covered [0, 600].
      ...drive(hundreds(0, 600).map(east), t0, true),
      // A, 700 -> 1000 m, gear off: the stretch 600 -> 700 has one end not working, so nothing of
      // 600 -> 1000 counts. A: 600 / 1000 = 60 %.
      ...drive(hundreds(700, 1000).map(east), t0 + 7 * 20_000, false),
      // B, 0 -> 300 m, gear on (the jump from A's end to O is 1 km: a gap). B covered [0, 300].
      ...drive(hundreds(0, 300).map(north), t0 + 15 * 60_000, true),
      // A gap: the next fix is 300 m further but 5 min later (> maxGap 2 min): 300 -> 600 not counted.
      // Then 600 -> 800 m gear on: B covered [0, 300] + [600, 800] = 500 m. B: 500 / 1000 = 50 %.
      ...drive(hundreds(600, 800).map(north), t0 + 15 * 60_000 + 3 * 20_000 + 5 * 60_000, true),
      // Off route: 100, 200, 300 m east of B's 800 m mark, gear on. 100 m from B is beyond the 15 m
      // corridor (no coverage) and beyond offRouteM 60 (off route): 100 -> 200 -> 300 = 200 m.
      ...drive([off(100, 800), off(200, 800), off(300, 800)], t0 + 25 * 60_000, true),
    ];
    const incidents = track.flatMap((f) => j.onFix('SW-1', f));
    const [view] = j.taskViews('SW-1');
    const byRoad = Object.fromEntries((view?.roads ?? []).map((r) => [r.road.id, r]));
    expect(byRoad['RD-A']?.lengthM).toBeCloseTo(1000, 0);
    expect(byRoad['RD-B']?.lengthM).toBeCloseTo(1000, 0);
    expect(Math.abs((byRoad['RD-A']?.coverage ?? 0) - 0.6)).toBeLessThan(0.01);
    expect(Math.abs((byRoad['RD-B']?.coverage ?? 0) - 0.5)).toBeLessThan(0.01);
    // The road's coverage today (any vehicle) is the same here: one vehicle drove.
    const roads = j.roadCoverage(DAY);
    expect(roads.map((r) => [r.road.id, Math.round(r.coverage * 100)])).toEqual([
      ['RD-A', 60],
      ['RD-B', 50],
    ]);
    // One off-route episode, started at the first fix 100 m from B.
    expect(incidents.filter((i) => i.kind === 'off_route')).toEqual([
      expect.objectContaining({ phase: 'start', since: t0 + 25 * 60_000 }),
    ]);
    const state = j.vehicle('SW-1')?.state;
    expect(state?.today.offRoutes).toBe(1);
    expect(Math.abs((state?.today.offRouteM ?? 0) - 200)).toBeLessThan(2);
    // Working metres: 600 (A) + 300 + 200 (B) + 200 (off route, gear on, in band) = 1300 m.
    expect(Math.abs((state?.today.workingM ?? 0) - 1300)).toBeLessThan(13);

    // At 09:00 + grace the task is judged: both roads short of 90 %.
    expect(j.due(sh(`${DAY} 09:05`), 10 * 60_000)).toEqual([]);
    const verdicts = j.due(sh(`${DAY} 09:10`), 10 * 60_000);
    expect(verdicts.map((v) => [v.road.id, v.met])).toEqual([
      ['RD-A', false],
      ['RD-B', false],
    ]);
    expect(j.due(sh(`${DAY} 10:00`), 10 * 60_000)).toEqual([]); // judged once
  });

  it('a batch upload that fills a gap restores the stretches in it', () => {
    const j = judgeOf();
    const t0 = sh(`${DAY} 07:00`);
    // Live: A at 0 m, then 500 m three minutes later (a gap: > 2 min), then 600 m.
    j.onFix('SW-1', fix(east(0), t0, 18, true));
    j.onFix('SW-1', fix(east(500), t0 + 180_000, 18, true));
    j.onFix('SW-1', fix(east(600), t0 + 200_000, 18, true));
    expect(j.taskViews('SW-1')[0]?.roads[0]?.coveredM).toBeCloseTo(100, -1); // only 500 -> 600
    // The batch upload (fixes from the tunnel, sent later): 100..400 m every 36 s.
    for (const m of [100, 200, 300, 400]) j.onFix('SW-1', fix(east(m), t0 + (m / 100) * 36_000, 10, true));
    // Now 0 -> 600 m is one working track with 36 s steps: 600 m covered.
    expect(Math.abs((j.taskViews('SW-1')[0]?.roads[0]?.coveredM ?? 0) - 600)).toBeLessThan(6);
  });

  it('a turn between fixes: the diagonal covers each road only as far as it stays within the corridor', () => {
    const j = judgeOf();
    const t0 = sh(`${DAY} 07:00`);
    // Down B from 1000 to 100 m, then (20 s later) on A at 100 m and on to 1000 m: the stretch
    // north(100) -> east(100) cuts the corner (141 m). Walked in 19 steps of 7.4 m from north(100), it
    // is within 15 m of B for s = k/19 <= 0.15, i.e. k <= 2: B covered down to 100 * (1 - 2/19) =
    // 89.5 m, so [89.5, 1000] = 910.5 m = 91.05 %; A the same from the other end.
    const down = hundreds(100, 1000).reverse().map(north);
    const track = [...drive(down, t0, true), ...drive(hundreds(100, 1000).map(east), t0 + down.length * 20_000, true)];
    for (const f of track) j.onFix('SW-1', f);
    const [view] = j.taskViews('SW-1');
    for (const r of view?.roads ?? []) expect(Math.abs(r.coverage - 0.9105), r.road.id).toBeLessThan(0.01);
  });

  it('does not count driving outside the window, too fast, or by a role that is not judged', () => {
    const plough = vehicle('PL-1', { role: 'plough' });
    const j = judgeOf([vehicle('SW-1'), plough]);
    const early = sh(`${DAY} 05:00`);
    for (const f of drive(hundreds(0, 1000).map(east), early, true)) j.onFix('SW-1', f); // before 06:00
    for (const f of drive(hundreds(0, 1000).map(north), sh(`${DAY} 07:00`), true, 30)) j.onFix('SW-1', f); // 30 > 20 km/h
    for (const f of drive(hundreds(0, 1000).map(east), sh(`${DAY} 07:30`), true)) j.onFix('PL-1', f);
    const [view] = j.taskViews('SW-1');
    expect(view?.roads.map((r) => r.coveredM)).toEqual([0, 0]);
    expect(j.taskViews('PL-1')).toEqual([]); // ploughs are not in roles: no task
  });

  it('covered in time: the verdict is met', () => {
    const j = judgeOf();
    const t0 = sh(`${DAY} 07:00`);
    for (const f of drive(hundreds(0, 1000).map(east), t0, true)) j.onFix('SW-1', f);
    for (const f of drive(hundreds(0, 1000).map(north), t0 + 10 * 60_000, true)) j.onFix('SW-1', f);
    const verdicts = j.due(sh(`${DAY} 09:10`), 10 * 60_000);
    expect(verdicts.map((v) => [v.road.id, v.met, Math.round(v.coverage * 100)])).toEqual([
      ['RD-A', true, 100],
      ['RD-B', true, 100],
    ]);
  });

  it('the snow-plan variant: ploughs and spreaders together on the priority roads by an incident deadline', () => {
    const vehicles = [
      vehicle('PL-1', { role: 'plough', assignments: [] }),
      vehicle('SP-1', { role: 'spreader', assignments: [] }),
    ];
    const p = params(vehicles, { roads: [ROAD_A, ROAD_B].filter((r) => r.priority), roles: ['plough', 'spreader'] });
    const j = new CoverageJudge(p);
    const from = sh(`${DAY} 02:00`);
    const by = sh(`${DAY} 04:30`);
    j.setTasks([
      pooledTask({ id: 'INC-1', vehicles, roles: p.roles, roads: p.roads, from, by, minCoverage: 0.8, days }),
    ]);
    // The plough does B 0 -> 500 at 36 km/h (100 m per 10 s), the spreader 400 -> 900: union 0 -> 900.
    const fast = (pts: [number, number][], start: number) => pts.map((q, i) => fix(q, start + i * 10_000, 36, true));
    for (const f of fast(hundreds(0, 500).map(north), sh(`${DAY} 03:00`))) j.onFix('PL-1', f);
    for (const f of fast(hundreds(400, 900).map(north), sh(`${DAY} 03:10`))) j.onFix('SP-1', f);
    // Road A is not a priority road: driving it counts for nothing.
    for (const f of fast(hundreds(0, 1000).map(east), sh(`${DAY} 03:20`))) j.onFix('PL-1', f);
    const verdicts = j.due(by, 0);
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]?.road.id).toBe('RD-B');
    expect(Math.abs((verdicts[0]?.coverage ?? 0) - 0.9)).toBeLessThan(0.01);
    expect(verdicts[0]?.met).toBe(true);
  });

  it('state saved with changed() and loaded into a new judge continues where it was', () => {
    const j = judgeOf();
    const t0 = sh(`${DAY} 07:00`);
    for (const f of drive(hundreds(0, 300).map(east), t0, true)) j.onFix('SW-1', f);
    const saved = JSON.parse(JSON.stringify(j.changed()));
    const k = new CoverageJudge(params([vehicle('SW-1')]));
    k.load(saved);
    k.setTasks(dailyTasks([vehicle('SW-1')], ['sweeper'], [ROAD_A, ROAD_B], days, DAY));
    // The next fix continues the track from the restored last fix: 0 -> 400 m.
    k.onFix('SW-1', fix(east(400), t0 + 4 * 20_000, 18, true));
    expect(Math.abs((k.taskViews('SW-1')[0]?.roads[0]?.coveredM ?? 0) - 400)).toBeLessThan(4);
    expect(Math.round((k.roadCoverage(DAY, ['RD-A'])[0]?.coverage ?? 0) * 100)).toBe(40);
  });
});

describe('dwell and speeding while working', () => {
  it('reports a stop longer than maxDwell away from allowed places once, and its end', () => {
    const j = judgeOf();
    const t0 = sh(`${DAY} 07:00`);
    const stopAt = east(300);
    const fixes = [fix(east(200), t0, 18, true)];
    for (let m = 0; m <= 20; m++) fixes.push(fix(stopAt, t0 + 20_000 + m * 60_000, 0, false)); // 20 min stopped
    fixes.push(fix(east(400), t0 + 22 * 60_000, 18, true));
    const incidents = fixes.flatMap((f) => j.onFix('SW-1', f)).filter((i) => i.kind === 'dwell');
    expect(incidents.map((i) => [i.phase, i.since])).toEqual([
      ['start', t0 + 20_000],
      ['end', t0 + 20_000],
    ]);
    expect(incidents[1]?.detail.durationMs).toBe(22 * 60_000 - 20_000);
  });

  it('does not report a long stop at the depot (an allowed stop)', () => {
    const j = judgeOf();
    const t0 = sh(`${DAY} 07:00`);
    const depot = off(-300, -300);
    const incidents = [0, 10, 20, 30].flatMap((m) => j.onFix('SW-1', fix(depot, t0 + m * 60_000, 0, false)));
    expect(incidents).toEqual([]);
  });

  it('reports speeding with the gear on, with its highest speed', () => {
    const j = judgeOf();
    const t0 = sh(`${DAY} 07:00`);
    const speeds = [18, 26, 31, 24, 15];
    const incidents = speeds.flatMap((s, i) => j.onFix('SW-1', fix(east(i * 150), t0 + i * 20_000, s, true)));
    expect(incidents.filter((i) => i.kind === 'speeding').map((i) => [i.phase, i.detail.maxKmh])).toEqual([
      ['start', 26],
      ['end', 31],
    ]);
  });
});
