/**
 * Route building and driving of the fleet simulator: legs from the city config's assignments,
 * speeds per role, determinism per seed, tunnels, the misbehaving truck's skipped half.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCityConfig } from '../../../config/load.js';
import type { Road } from '../../../config/schema/fleet.js';
import { reportOf } from '../../../simulators/fleet/fleet.js';
import { firstPart, planRoute } from '../../../simulators/fleet/route-plan.js';
import { FleetTruck, HOP_SPEED_KMH, WORK_SPEED_KMH } from '../../../simulators/fleet/truck.js';
import { cityFleet, cityPhone, syntheticFleet, tunnelPoints } from '../../../simulators/fleet/vehicles.js';
import { distanceM, type LonLat, Route } from '../../../simulators/gps/route.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const city = loadCityConfig(path.join(ROOT, 'config/examples/city.yaml'));

// Two 1 km segments east of a depot: A runs west->east, B north of A's end, listed end->start.
const A: Road = {
  id: 'A',
  district: 'd',
  priority: false,
  path: [
    [120.0, 30.0],
    [120.0104, 30.0],
  ],
};
const B: Road = {
  id: 'B',
  district: 'd',
  priority: false,
  path: [
    [120.0104, 30.009],
    [120.0104, 30.0],
  ],
};
const ROADS = new Map([
  ['A', A],
  ['B', B],
]);
const vehicle = {
  id: 'T1',
  assignments: [{ roads: ['A', 'B'], by: '09:00', minCoverage: 0.9 }],
  allowedStops: [{ name: 'depot', at: [119.999, 30.0] as [number, number], radiusM: 50 }],
};

/** Distance from a point to a polyline, metres (fine at these scales: sample the line every metre). */
function distanceToPath(p: LonLat, line: readonly LonLat[]): number {
  const route = new Route(line);
  let best = Number.POSITIVE_INFINITY;
  for (let d = 0; d <= route.lengthM; d += 1) {
    const q = route.at(d);
    best = Math.min(best, distanceM(p, [q.lon, q.lat]));
  }
  return best;
}

describe('fleet route plan', () => {
  it('joins assigned segments with connecting hops, each segment driven from its nearer end, back to the depot', () => {
    const legs = planRoute(vehicle, ROADS);
    expect(legs.map((l) => `${l.kind}${l.roadId ? `:${l.roadId}` : ''}`)).toEqual([
      'hop',
      'work:A',
      'work:B',
      'hop',
      'stop',
    ]);
    // B is listed north->south but its south end is where A ends: driven south->north, no hop
    expect(legs[2]?.path[0]).toEqual([120.0104, 30.0]);
    expect(legs[4]).toMatchObject({ kind: 'stop', stopName: 'depot', dwellS: 300 });
  });

  it('stops at an allowed stop near where a segment ends', () => {
    const withPoint = {
      ...vehicle,
      allowedStops: [
        ...vehicle.allowedStops,
        { name: 'collection', at: [120.0106, 29.9995] as [number, number], radiusM: 30 },
      ],
    };
    const kinds = planRoute(withPoint, ROADS).map((l) => l.stopName ?? l.kind);
    expect(kinds).toEqual(['hop', 'work', 'hop', 'collection', 'hop', 'work', 'hop', 'depot']);
  });

  it('a misbehaving truck drives only the first half of every second segment', () => {
    const legs = planRoute(vehicle, ROADS, { misbehave: true });
    const b = legs.find((l) => l.roadId === 'B');
    expect(new Route(b?.path ?? []).lengthM).toBeCloseTo(new Route(B.path).lengthM / 2, 0);
    expect(new Route(legs.find((l) => l.roadId === 'A')?.path ?? []).lengthM).toBeCloseTo(new Route(A.path).lengthM, 0);
    expect(firstPart(A.path as LonLat[], 0.25)[1]?.[0]).toBeCloseTo(120.0026, 4);
  });

  it('builds a plan for every vehicle of the example city, phones by the documented rule', () => {
    const fleet = cityFleet(city);
    expect(fleet.length).toBe(city.vehicles.length);
    expect(fleet.length).toBeGreaterThanOrEqual(8);
    expect(fleet[0]?.phone).toBe('013800000001');
    expect(fleet.map((v) => v.phone)).toEqual(city.vehicles.map((_, i) => cityPhone(i + 1)));
    for (const v of fleet) expect(v.legs.filter((l) => l.kind === 'work').length).toBeGreaterThan(0);
    expect(tunnelPoints(city)).toHaveLength(2);
    const synthetic = syntheticFleet(city, 25);
    expect(new Set(synthetic.map((v) => v.phone)).size).toBe(25);
    expect(synthetic[24]).toMatchObject({ id: 'SIM-00025', phone: '013900000025' });
  });
});

describe('fleet truck driving', () => {
  const track = (seed: number, steps: number, misbehave = false) => {
    const truck = new FleetTruck({ legs: planRoute(vehicle, ROADS, { misbehave }), role: 'sweeper', seed });
    return Array.from({ length: steps }, () => truck.step(10));
  };

  it('is deterministic: the same seed gives the same track, another seed another', () => {
    const a = track(7, 300);
    expect(track(7, 300)).toEqual(a);
    expect(track(8, 300).map((s) => s.lat)).not.toEqual(a.map((s) => s.lat));
  });

  it('drives at the role’s work speed on segments and 30–50 km/h between them, working only on segments', () => {
    const states = track(3, 400);
    const work = states.filter((s) => s.leg.kind === 'work');
    const hops = states.filter((s) => s.leg.kind === 'hop');
    expect(work.length).toBeGreaterThan(50);
    expect(hops.length).toBeGreaterThan(0);
    for (const s of work) {
      expect(s.working).toBe(true);
      expect(s.speedKmh).toBeGreaterThanOrEqual(WORK_SPEED_KMH.sweeper[0]);
      expect(s.speedKmh).toBeLessThanOrEqual(WORK_SPEED_KMH.sweeper[1]);
    }
    for (const s of hops) {
      expect(s.working).toBe(false);
      expect(s.speedKmh).toBeGreaterThanOrEqual(HOP_SPEED_KMH[0]);
      expect(s.speedKmh).toBeLessThanOrEqual(HOP_SPEED_KMH[1]);
    }
    // it comes back to the depot and stands there, then starts again
    expect(states.some((s) => s.leg.kind === 'stop' && s.speedKmh === 0)).toBe(true);
    expect(states.at(-1)?.mileageKm).toBeGreaterThan(states[0]?.mileageKm ?? 0);
  });

  it('adds GPS noise of a few metres to the reported position', () => {
    const states = track(5, 200);
    const offsets = states.map((s) => distanceM([s.lon, s.lat], [s.trueLon, s.trueLat]));
    const mean = offsets.reduce((a, b) => a + b, 0) / offsets.length;
    expect(mean).toBeGreaterThan(1);
    expect(mean).toBeLessThan(8);
    expect(Math.max(...offsets)).toBeLessThan(25);
  });

  it('loses the signal within the tunnel radius', () => {
    const truck = new FleetTruck({
      legs: planRoute(vehicle, ROADS),
      role: 'plough',
      seed: 1,
      tunnels: [[120.0052, 30.0]],
      tunnelRadiusM: 100,
    });
    const states = Array.from({ length: 200 }, () => truck.step(5));
    const inside = states.filter((s) => s.inTunnel);
    expect(inside.length).toBeGreaterThan(0);
    for (const s of inside) expect(distanceM([s.trueLon, s.trueLat], [120.0052, 30.0])).toBeLessThanOrEqual(100);
    expect(reportOf(inside[0] as (typeof states)[0], 0).csq).toBe(0);
  });

  it('the misbehaving truck never drives the second half of the skipped segment', () => {
    // B is driven south->north (from A's end); its northern 45 % is the part a cheat skips
    const secondHalf = firstPart(B.path as LonLat[], 0.45);
    const honest = track(2, 400);
    const cheat = track(2, 400, true);
    const near = (states: typeof honest) =>
      states.filter((s) => s.working && distanceToPath([s.trueLon, s.trueLat], secondHalf) < 5).length;
    expect(near(honest)).toBeGreaterThan(5);
    expect(near(cheat)).toBe(0);
  });
});
