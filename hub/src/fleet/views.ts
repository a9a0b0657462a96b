/**
 * What /api/fleet and /api/fleet/roads show: per vehicle its last position, working state,
 * today's counters, open episodes and the coverage of each assigned segment today; per road its
 * coverage today by any working vehicle, and the case raised when it was missed.
 */
import type { HubFleet } from './hub-fleet.js';
import type { RoadCoverage } from './judge.js';

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

function roadJson(r: RoadCoverage, caseId: string | undefined): Record<string, unknown> {
  return {
    id: r.road.id,
    ...(r.road.name ? { name: r.road.name } : {}),
    district: r.road.district,
    priority: r.road.priority,
    lengthM: round(r.lengthM),
    coveredM: round(r.coveredM),
    coverage: round(r.coverage, 4),
    ...(caseId ? { case: caseId } : {}),
  };
}

export interface FleetFilter {
  vehicle?: string;
  district?: string;
  unit?: string;
}

export function fleetJson(fleet: HubFleet, now: number, filter: FleetFilter = {}): Record<string, unknown> {
  const judge = fleet.judge;
  const day = fleet.days.key(now);
  const roles = new Set(judge.params.roles);
  const vehicles = [];
  for (const id of judge.vehicleIds()) {
    const v = judge.vehicle(id);
    if (!v) continue;
    const c = v.config;
    if (filter.vehicle && id !== filter.vehicle) continue;
    if (filter.district && c.district !== filter.district) continue;
    if (filter.unit && c.unit !== filter.unit) continue;
    const s = v.state;
    const last = s?.fixes.at(-1);
    const today = s && s.today.day === day ? s.today : undefined;
    vehicles.push({
      id,
      plate: c.plate,
      unit: c.unit,
      role: c.role,
      district: c.district,
      judged: roles.has(c.role),
      last: last
        ? { ts: last.ts, lon: last.lon, lat: last.lat, speedKmh: last.speedKmh ?? null, gear: last.gear }
        : null,
      working: last ? judge.working(last, c.role) : false,
      today: today
        ? {
            drivenM: round(today.drivenM),
            workingM: round(today.workingM),
            dwells: today.dwells,
            offRoutes: today.offRoutes,
            offRouteM: round(today.offRouteM),
            speedings: today.speedings,
            maxSpeedKmh: round(today.maxSpeedKmh),
          }
        : null,
      dwell: s?.stop ? { since: s.stop.since, lon: s.stop.lon, lat: s.stop.lat, reported: s.stop.reported } : null,
      offRoute: s?.offRoute ? { since: s.offRoute.since, metres: round(s.offRoute.m) } : null,
      speeding: s?.speeding ? { since: s.speeding.since, maxKmh: s.speeding.maxKmh } : null,
      assignments: judge
        .taskViews(id)
        .filter((t) => t.task.day === day)
        .map((t) => ({
          task: t.task.id,
          from: t.task.from,
          by: t.task.by,
          minCoverage: t.task.minCoverage,
          judged: t.judged,
          roads: t.roads.map((r) => roadJson(r, fleet.caseFor(r.road.id, t.task.day))),
        })),
    });
  }
  return { day, since: fleet.since, vehicles };
}

export function roadsJson(fleet: HubFleet, now: number, ids?: readonly string[]): Record<string, unknown> {
  const day = fleet.days.key(now);
  return {
    day,
    roads: fleet.judge.roadCoverage(day, ids).map((r) => roadJson(r, fleet.caseFor(r.road.id, day))),
  };
}
