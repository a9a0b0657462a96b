/**
 * A vehicle's working day as legs: from its depot (first allowed stop), each assigned road segment
 * in deadline order (driven in the direction whose start is nearer), joined by straight
 * connecting hops, with a stop at any collection point close to where a segment ends, and back
 * to the depot at the end. The plan repeats. A misbehaving truck drives only the first half of
 * every second assigned segment (of the only one when it has one) before heading on.
 */
import type { Road, Vehicle } from '../../config/schema/fleet.js';
import { distanceM, type LonLat, Route } from '../gps/route.js';

export type LegKind = 'hop' | 'work' | 'stop';

export interface Leg {
  kind: LegKind;
  /** At least two points for hop and work, one for a stop. */
  path: LonLat[];
  /** The road segment a work leg drives. */
  roadId?: string;
  /** How long a stop lasts, seconds. */
  dwellS?: number;
  /** Name of the allowed stop. */
  stopName?: string;
}

export interface PlanOptions {
  /** Skip part of the route (see the file comment). */
  misbehave?: boolean;
  /** An allowed stop this close to the end of a segment is visited, metres. Default 600. */
  stopDetourM?: number;
  /** Dwell at a collection point / at the depot, seconds. Defaults 120 / 300. */
  stopDwellS?: number;
  depotDwellS?: number;
}

/** The first `fraction` of a polyline by length. */
export function firstPart(path: readonly LonLat[], fraction: number): LonLat[] {
  const route = new Route(path);
  const cut = route.lengthM * fraction;
  const out: LonLat[] = [path[0] as LonLat];
  let walked = 0;
  for (let i = 1; i < path.length; i++) {
    const seg = distanceM(path[i - 1] as LonLat, path[i] as LonLat);
    if (walked + seg >= cut) {
      const p = route.at(cut);
      out.push([p.lon, p.lat]);
      return out;
    }
    walked += seg;
    out.push(path[i] as LonLat);
  }
  return out;
}

/** The roads a vehicle must cover, deadline order, each once. */
export function assignedRoads(vehicle: Vehicle, roads: ReadonlyMap<string, Road>): Road[] {
  const ordered = [...vehicle.assignments].sort((a, b) => a.by.localeCompare(b.by));
  const seen = new Set<string>();
  const out: Road[] = [];
  for (const a of ordered)
    for (const id of a.roads) {
      const road = roads.get(id);
      if (!road) throw new Error(`vehicle ${vehicle.id}: unknown road "${id}"`);
      if (!seen.has(id)) out.push(road);
      seen.add(id);
    }
  return out;
}

export function planRoute(
  vehicle: Pick<Vehicle, 'id' | 'assignments' | 'allowedStops'>,
  roads: ReadonlyMap<string, Road>,
  opts: PlanOptions = {},
): Leg[] {
  const list = assignedRoads(vehicle as Vehicle, roads);
  const [depot, ...points] = vehicle.allowedStops;
  const start: LonLat | undefined = depot?.at ?? (list[0]?.path[0] as LonLat | undefined);
  if (!start) throw new Error(`vehicle ${vehicle.id} has neither assigned roads nor an allowed stop`);
  const legs: Leg[] = [];
  let at: LonLat = start;
  const goTo = (to: LonLat) => {
    if (distanceM(at, to) > 1) legs.push({ kind: 'hop', path: [at, to] });
    at = to;
  };
  const detour = opts.stopDetourM ?? 600;
  list.forEach((road, i) => {
    let path = road.path.map(([lon, lat]) => [lon, lat] as LonLat);
    const first = path[0] as LonLat;
    const last = path[path.length - 1] as LonLat;
    if (distanceM(at, last) < distanceM(at, first)) path = path.reverse();
    if (opts.misbehave && (i % 2 === 1 || list.length === 1)) path = firstPart(path, 0.5);
    goTo(path[0] as LonLat);
    legs.push({ kind: 'work', path, roadId: road.id });
    at = path[path.length - 1] as LonLat;
    const near = points
      .map((s) => ({ s, d: distanceM(at, s.at as LonLat) }))
      .filter((x) => x.d <= detour)
      .sort((a, b) => a.d - b.d)[0];
    if (near) {
      goTo(near.s.at as LonLat);
      legs.push({ kind: 'stop', path: [at], dwellS: opts.stopDwellS ?? 120, stopName: near.s.name });
    }
  });
  goTo(start);
  legs.push({ kind: 'stop', path: [start], dwellS: opts.depotDwellS ?? 300, stopName: depot?.name ?? 'start' });
  return legs;
}
