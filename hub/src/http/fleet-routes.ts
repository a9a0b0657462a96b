/**
 * The fleet routes of the hub API (issue 9):
 *
 *   GET /api/fleet?vehicle=&district=&unit=   per vehicle: last position, working state, today's
 *                                             counters (driven, working, dwell, off-route, speeding),
 *                                             open episodes, coverage of each assigned segment today
 *   GET /api/fleet/roads?ids=a,b              coverage today of road segments by any working vehicle
 *                                             (all when `ids` is omitted), with the case of a missed one
 *
 * Scope (guard.ts): a district commander sees the vehicles and roads of their district, a unit
 * handler the vehicles of their unit (the company) and the roads assigned to them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleUser } from '../auth/users.js';
import type { HubFleet } from '../fleet/hub-fleet.js';
import { fleetJson, roadsJson } from '../fleet/views.js';
import { userOf } from './guard.js';
import { allowMethods, type Send, type SendError } from './respond.js';

export interface FleetRouteDeps {
  fleet: HubFleet;
  now?: () => number;
}

/** Handles the route when it is one of these; returns false otherwise. */
export function handleFleetRoute(
  deps: FleetRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: string,
  send: { json: Send; error: SendError },
): boolean {
  if (route !== '/api/fleet' && route !== '/api/fleet/roads') return false;
  if (!allowMethods(req, res, route, ['GET'])) return true;
  const now = (deps.now ?? Date.now)();
  const q = url.searchParams;
  const user = userOf(req);
  if (route === '/api/fleet/roads') {
    const asked = q.get('ids')?.split(',').filter(Boolean);
    const visible = visibleRoads(deps, user, now);
    const ids = visible ? (asked ?? [...visible]).filter((id) => visible.has(id)) : asked;
    send.json(res, 200, roadsJson(deps.fleet, now, ids));
    return true;
  }
  const filter = {
    ...(q.get('vehicle') ? { vehicle: q.get('vehicle') as string } : {}),
    ...(q.get('district') ? { district: q.get('district') as string } : {}),
    ...(q.get('unit') ? { unit: q.get('unit') as string } : {}),
  };
  // Outside their scope a commander or handler gets an empty list, not someone else's vehicles.
  if (user.role === 'district_commander')
    filter.district =
      filter.district === undefined || filter.district === user.district ? (user.district as string) : '\0';
  if (user.role === 'unit_handler')
    filter.unit = filter.unit === undefined || filter.unit === user.unit ? (user.unit as string) : '\0';
  send.json(res, 200, fleetJson(deps.fleet, now, filter));
  return true;
}

/** Road ids a user may see; undefined: all (the city supervisor). */
function visibleRoads(deps: FleetRouteDeps, user: ConsoleUser, now: number): Set<string> | undefined {
  const judge = deps.fleet.judge;
  if (user.role === 'district_commander') {
    const day = deps.fleet.days.key(now);
    return new Set(
      judge
        .roadCoverage(day)
        .filter((r) => r.road.district === user.district)
        .map((r) => r.road.id),
    );
  }
  if (user.role === 'unit_handler') {
    const ids = new Set<string>();
    for (const id of judge.vehicleIds()) {
      const v = judge.vehicle(id)?.config;
      if (v && v.unit === user.unit) for (const a of v.assignments) for (const r of a.roads) ids.add(r);
    }
    return ids;
  }
  return undefined;
}
