/**
 * The small known road network of the fleet tests: two perpendicular 1 km segments meeting at O
 * (120.09 E, 30.27 N, in the example city's grid cell 330106001001 of Xihu), built with @turf destination so both are exactly 1000 m long on turf's sphere.
 *
 *        B (north, 1000 m)
 *        |
 *        |
 *        O ------------ A (east, 1000 m)
 *
 * `east(x)` / `north(y)` give the point x metres along A / y metres along B; `off(x, y)` a point x
 * east and y north of O (away from both roads when both are large).
 */
import { destination } from '@turf/turf';
import type { Road, Vehicle } from '../../../config/schema/fleet.js';
import { DEFAULT_WORK_SPEED_KMH } from '../../../config/schema/fleet-judging.js';
import type { Fix, JudgeParams } from '../../../hub/src/fleet/judge.js';

export const O: [number, number] = [120.09, 30.27];

const move = (from: [number, number], m: number, bearing: number): [number, number] =>
  m === 0 ? from : (destination(from, m, bearing, { units: 'meters' }).geometry.coordinates as [number, number]);

export const east = (x: number) => move(O, x, 90);
export const north = (y: number) => move(O, y, 0);
export const off = (x: number, y: number) => move(north(y), x, 90);

export const ROAD_A: Road = {
  id: 'RD-A',
  name: 'A road (east)',
  district: 'xihu',
  path: [O, east(1000)],
  priority: false,
};
export const ROAD_B: Road = {
  id: 'RD-B',
  name: 'B road (north)',
  district: 'xihu',
  path: [O, north(1000)],
  priority: true,
};

export const vehicle = (id: string, over: Partial<Vehicle> = {}): Vehicle => ({
  id,
  plate: `浙A·${id}`,
  unit: 'xihu-sanitation',
  role: 'sweeper',
  district: 'xihu',
  assignments: [{ roads: ['RD-A', 'RD-B'], from: '06:00', by: '09:00', minCoverage: 0.9 }],
  allowedStops: [{ name: 'depot', at: off(-300, -300), radiusM: 50 }],
  ...over,
});

/** Judge parameters of the tests: the shipped defaults of hub.yaml `fleet:`. */
export const params = (vehicles: Vehicle[], over: Partial<JudgeParams> = {}): JudgeParams => ({
  roads: [ROAD_A, ROAD_B],
  vehicles,
  roles: ['sweeper', 'washer'],
  timeZone: 'Asia/Shanghai',
  workSpeedKmh: DEFAULT_WORK_SPEED_KMH,
  corridorM: 15,
  maxGapMs: 120_000,
  maxGapM: 500,
  stopSpeedKmh: 2,
  maxDwellMs: 15 * 60_000,
  offRouteM: 60,
  ...over,
});

/** Local Shanghai time "YYYY-MM-DD HH:MM[:SS]" as an instant. */
export const sh = (t: string) => Date.parse(`${t.replace(' ', 'T')}${t.length > 16 ? '' : ':00'}+08:00`);

export const fix = (at: [number, number], ts: number, speedKmh: number, gear: boolean): Fix => ({
  ts,
  lon: at[0],
  lat: at[1],
  speedKmh,
  gear,
});
