/**
 * The fleet routes of the hub API (issue 9):
 *
 *   GET /api/fleet?vehicle=&district=&unit=   per vehicle: last position, working state, today's
 *                                             counters (driven, working, dwell, off-route, speeding),
 *                                             open episodes, coverage of each assigned segment today
 *   GET /api/fleet/roads?ids=a,b              coverage today of road segments by any working vehicle
 *                                             (all when `ids` is omitted), with the case of a missed one
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubFleet } from '../fleet/hub-fleet.js';
import { fleetJson, roadsJson } from '../fleet/views.js';
import type { Send, SendError } from './evidence-routes.js';

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
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    send.error(res, 405, 'method-not-allowed', `${method} is not allowed on ${route}`);
    return true;
  }
  const now = (deps.now ?? Date.now)();
  const q = url.searchParams;
  if (route === '/api/fleet/roads') {
    const ids = q.get('ids');
    send.json(res, 200, roadsJson(deps.fleet, now, ids ? ids.split(',').filter(Boolean) : undefined));
    return true;
  }
  const filter = {
    ...(q.get('vehicle') ? { vehicle: q.get('vehicle') as string } : {}),
    ...(q.get('district') ? { district: q.get('district') as string } : {}),
    ...(q.get('unit') ? { unit: q.get('unit') as string } : {}),
  };
  send.json(res, 200, fleetJson(deps.fleet, now, filter));
  return true;
}
