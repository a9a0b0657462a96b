/**
 * The hub's HTTP API on node:http (no framework: a handful of GET routes).
 *
 *   GET /api/gateways          gateways with online state, boot, last seen, devices, watermark, gaps
 *   GET /api/devices           devices from births and readings
 *   GET /api/readings/latest   last reading per device; ?device= &kind= &district=
 *   GET /api/stream            Server-Sent Events of live readings, events, gateway changes
 *   GET /metrics               Prometheus text
 *   GET /healthz               broker and sink state (503 while the broker link is down)
 *   GET /api/city              the city's geometry (districts, grid cells, assets, routes) for maps
 *   GET /                      the operator console (hub/console, bundled at start: console-assets.ts)
 *   GET /console/<file>        its bundle (app.js, app.css)
 *   /api/evidence…, /api/cameras/<device>/capture, /api/commands/<id>: evidence-routes.ts
 *   /api/cases…, /api/reports, /api/evaluation: case-routes.ts
 *   /api/incidents…, /api/situation: incident-routes.ts
 *   /api/fleet, /api/fleet/roads: fleet-routes.ts
 *
 *   POST /api/login, POST /api/logout, GET /api/me: auth-routes.ts
 *
 * Every /api route but /api/login needs a console session and a role the route table of guard.ts
 * allows (401 / 403 otherwise); `/`, `/metrics` and `/healthz` are open.
 * Errors are JSON `{ error, message }` with the matching status.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CityConfig } from '../../../config/schema/city.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { districtOfScope, seesAll, seesCase, seesDistrict } from '../auth/scope.js';
import type { ConsoleUser } from '../auth/users.js';
import type { GatewayRegistry } from '../ingest/gateways.js';
import { listen } from '../listen.js';
import type { LatestValueCache } from '../live/latest-cache.js';
import { readingJson, type SseFeed } from '../live/sse.js';
import { handleAuthRoute } from './auth-routes.js';
import { type CaseRouteDeps, handleCaseRoute } from './case-routes.js';
import { type ConsoleAssets, prepareConsole, serveConsole } from './console-assets.js';
import { type DataRouteDeps, handleDataRoute } from './data-routes.js';
import { type EvidenceRouteDeps, handleEvidenceRoute } from './evidence-routes.js';
import { type FleetRouteDeps, handleFleetRoute } from './fleet-routes.js';
import { type ApiGuard, type ConsoleRole, requireRole, userOf } from './guard.js';
import { handleIncidentRoute, type IncidentRouteDeps } from './incident-routes.js';
import { allowMethods, sendError, sendJson } from './respond.js';

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

export interface HttpApiDeps {
  registry: GatewayRegistry;
  latest: LatestValueCache;
  sse: SseFeed;
  metrics: MetricsRegistry;
  health: () => HealthReport;
  log: Logger;
  /** The access check every /api route goes through (sessions, roles). */
  guard: ApiGuard;
  /** The city whose geometry /api/city serves. */
  city: Pick<CityConfig, 'city' | 'districts' | 'gridCells' | 'assets' | 'routes'> &
    Partial<Pick<CityConfig, 'roads' | 'units'>>;
  /** Evidence store and capture commands; without them those routes are 404. */
  evidence?: EvidenceRouteDeps;
  /** The case core; without it the case routes are 404. */
  cases?: CaseRouteDeps;
  /** History and rule limits for charts (/api/telemetry, /api/rules); without them those routes are 404. */
  data?: DataRouteDeps;
  /** Incidents and the situation view; without them those routes are 404. */
  incidents?: IncidentRouteDeps;
  /** Fleet judging; without it the fleet routes are 404. */
  fleet?: FleetRouteDeps;
  /** The console bundle (startHttpApi builds it when missing or stale) and its options. */
  console?: ConsoleAssets;
}

export interface HttpApi {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const incidentAuthorize = (req: IncomingMessage, res: ServerResponse, roles: readonly string[]) =>
  requireRole(req, res, ...(roles as ConsoleRole[]));

/**
 * The city geometry a user may see: the supervisor all; a commander the district boundaries (for
 * context) with the grid cells, assets, routes and roads of their district; a unit handler the
 * boundaries and grid cells with the assets of the cases dispatched to their unit.
 */
function cityFor(deps: HttpApiDeps, user: ConsoleUser): Record<string, unknown> {
  const { city, districts, gridCells, assets, routes, roads = [] } = deps.city;
  // Names for the console's unit fields and the dispatch choice; who a unit is is no secret.
  const units = (deps.city.units ?? []).map((u) => ({ id: u.id, name: u.name, type: u.type }));
  if (seesAll(user)) return { city, districts, gridCells, assets, routes, roads, units };
  if (user.role === 'district_commander') {
    const mine = <T extends { district: string }>(xs: readonly T[]) => xs.filter((x) => x.district === user.district);
    return {
      city,
      districts,
      gridCells: mine(gridCells),
      assets: mine(assets),
      routes: mine(routes),
      roads: mine(roads),
      units,
    };
  }
  const store = deps.cases?.cases.service.store;
  const caseAssets = new Set(
    (store?.list({ unit: user.unit as string, limit: 5000 }) ?? [])
      .filter((c) => seesCase(user, c))
      .map((c) => c.asset),
  );
  const assetsOfCases = assets.filter((a) => caseAssets.has(a.id));
  return { city, districts, gridCells, assets: assetsOfCases, routes: [], roads: [], units };
}

/** Devices of a gateway whose last state says offline (drivers report them in births and events). */
function offlineDevices(deps: HttpApiDeps, gateway: string): number {
  let n = 0;
  for (const d of deps.registry.listDevices()) if (d.gateway === gateway && !d.online) n++;
  return n;
}

export function handleRequest(deps: HttpApiDeps, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://hub');
  const route = url.pathname.replace(/\/+$/, '') || '/';
  if (route === '/api' || route.startsWith('/api/')) {
    // Login is the one open /api route; everything else passes the guard first, known route or not.
    if (route !== '/api/login' && !deps.guard.guard(req, res, route)) return;
    if (handleAuthRoute(deps.guard.auth, req, res, route)) return;
  }
  const routes: Record<string, () => void> = {
    '/': () => {
      serveConsole(deps.console, req, res, 'index.html');
    },
    '/api/city': () => sendJson(res, 200, cityFor(deps, userOf(req))),
    '/api/gateways': () =>
      sendJson(
        res,
        200,
        deps.registry
          .listGateways()
          .filter((g) => seesDistrict(userOf(req), g.district))
          .map((g) => ({ ...g, devicesOffline: offlineDevices(deps, g.id) })),
      ),
    '/api/devices': () =>
      sendJson(
        res,
        200,
        deps.registry.listDevices().filter((d) => seesDistrict(userOf(req), d.district)),
      ),
    '/api/readings/latest': () => {
      const q = url.searchParams;
      const user = userOf(req);
      const asked = q.get('district') ?? undefined;
      const held = districtOfScope(user);
      const filter = {
        device: q.get('device') ?? undefined,
        kind: q.get('kind') ?? undefined,
        district: held === undefined || asked === undefined || asked === held ? (held ?? asked) : '\u0000',
      };
      sendJson(res, 200, deps.latest.query(filter).map(readingJson));
    },
    '/api/stream': () => {
      const session = deps.guard.auth.sessionOf(req);
      deps.sse.accept(req, res, {
        user: userOf(req),
        alive: () => session !== undefined && deps.guard.auth.sessions.get(session.id) !== undefined,
      });
    },
    '/metrics': () => {
      const text = deps.metrics.render();
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    },
    '/healthz': () => {
      const report = deps.health();
      sendJson(res, report.ok ? 200 : 503, report);
    },
  };
  const handler =
    routes[route] ??
    (route.startsWith('/console/') ? () => serveConsole(deps.console, req, res, route.slice(9)) : undefined);
  if (!handler && deps.cases) {
    if (handleCaseRoute(deps.cases, req, res, url, route, { json: sendJson, error: sendError })) return;
  }
  if (!handler && deps.incidents) {
    // The operator is the session's user, whatever the deps say.
    const incidents = { ...deps.incidents, authorize: incidentAuthorize };
    if (handleIncidentRoute(incidents, req, res, url, route, { json: sendJson, error: sendError })) return;
  }
  if (!handler && deps.fleet) {
    if (handleFleetRoute(deps.fleet, req, res, url, route, { json: sendJson, error: sendError })) return;
  }
  if (!handler && deps.data) {
    if (handleDataRoute(deps.data, req, res, url, route)) return;
  }
  if (!handler && deps.evidence) {
    if (handleEvidenceRoute(deps.evidence, req, res, url, route, { json: sendJson, error: sendError })) return;
  }
  if (!handler) {
    sendError(res, 404, 'not-found', `no route ${route}`);
    return;
  }
  if (!allowMethods(req, res, route, ['GET'])) return;
  handler();
}

export async function startHttpApi(opts: { host: string; port: number }, deps: HttpApiDeps): Promise<HttpApi> {
  await prepareConsole(deps.console, deps.log);
  const server = createServer((req, res) => {
    try {
      handleRequest(deps, req, res);
    } catch (err) {
      deps.log.error({ err, url: req.url }, 'HTTP handler failed');
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error');
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 5_000;
  const address = await listen(server, opts.port, opts.host);
  const host = address.host;
  let closed = false;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: async () => {
      if (closed) return;
      closed = true;
      deps.sse.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
