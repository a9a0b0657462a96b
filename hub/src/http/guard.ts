/**
 * The one access check of the hub API. `handleRequest` calls `guard()` before any `/api/*` route
 * runs (only `/api/login` is open; `/`, `/metrics` and `/healthz` are not under /api):
 *
 *   - no session, or an expired one           -> 401 { error: 'unauthenticated' }
 *   - a role the route table does not allow   -> 403 { error: 'forbidden' }
 *
 * ROUTES is the table of every API route and the roles that may call it. A route missing from
 * the table is city_supervisor only (deny by default), so a new route cannot be reachable by a
 * district commander or unit handler by mistake; a new route adds its line here. What a role may
 * SEE on a route it is allowed (its district, its unit's cases) is the route's own filter, via
 * scope.ts, with `userOf(req)` giving the session's user.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { ConsoleAuth } from '../auth/console-auth.js';
import type { ConsoleUser } from '../auth/users.js';
import { sendError } from './respond.js';

export type ConsoleRole = ConsoleUser['role'];

export interface RouteRule {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with `:name` for one segment, e.g. /api/cases/:id/transitions. */
  path: string;
  roles: readonly ConsoleRole[];
}

const ALL: readonly ConsoleRole[] = ['city_supervisor', 'district_commander', 'unit_handler'];
const DISTRICT: readonly ConsoleRole[] = ['city_supervisor', 'district_commander'];
const SUPERVISOR: readonly ConsoleRole[] = ['city_supervisor'];

/** Every API route and who may call it (HEAD is GET). */
export const ROUTES: readonly RouteRule[] = [
  { method: 'GET', path: '/api/me', roles: ALL },
  { method: 'POST', path: '/api/logout', roles: ALL },
  { method: 'GET', path: '/api/city', roles: ALL },
  { method: 'GET', path: '/api/gateways', roles: DISTRICT },
  { method: 'GET', path: '/api/devices', roles: DISTRICT },
  { method: 'GET', path: '/api/readings/latest', roles: DISTRICT },
  { method: 'GET', path: '/api/stream', roles: ALL },
  { method: 'GET', path: '/api/telemetry', roles: DISTRICT },
  { method: 'GET', path: '/api/rules', roles: DISTRICT },
  { method: 'GET', path: '/api/assets/status', roles: ALL },
  { method: 'GET', path: '/api/cases', roles: ALL },
  { method: 'GET', path: '/api/cases/:id', roles: ALL },
  { method: 'POST', path: '/api/cases/:id/transitions', roles: ALL },
  { method: 'POST', path: '/api/reports', roles: DISTRICT },
  { method: 'GET', path: '/api/catalogue', roles: ALL },
  { method: 'GET', path: '/api/evaluation', roles: SUPERVISOR },
  { method: 'GET', path: '/api/profile', roles: ALL },
  { method: 'PUT', path: '/api/profile', roles: SUPERVISOR },
  { method: 'GET', path: '/api/evidence', roles: DISTRICT },
  { method: 'GET', path: '/api/evidence/:id', roles: ALL },
  { method: 'GET', path: '/api/evidence/:id/thumbnail', roles: ALL },
  { method: 'POST', path: '/api/cameras/:device/capture', roles: DISTRICT },
  { method: 'POST', path: '/api/assets/:asset/capture', roles: DISTRICT },
  { method: 'GET', path: '/api/commands/:id', roles: DISTRICT },
  // incident-routes.ts: a district commander switches only incidents inside their district (checked there)
  { method: 'GET', path: '/api/incidents', roles: ALL },
  { method: 'POST', path: '/api/incidents', roles: DISTRICT },
  { method: 'GET', path: '/api/incidents/:id', roles: ALL },
  { method: 'POST', path: '/api/incidents/:id/level', roles: DISTRICT },
  { method: 'POST', path: '/api/incidents/:id/close', roles: DISTRICT },
  { method: 'POST', path: '/api/incidents/:id/confirm', roles: DISTRICT },
  { method: 'POST', path: '/api/incidents/:id/dismiss', roles: DISTRICT },
  { method: 'GET', path: '/api/situation', roles: ALL },
  // fleet-routes.ts: scoped to the commander's district or the handler's unit there
  { method: 'GET', path: '/api/fleet', roles: ALL },
  { method: 'GET', path: '/api/fleet/roads', roles: ALL },
];

/** Routes anyone may call. */
export const OPEN_API_ROUTES: readonly string[] = ['/api/login'];

function matches(pattern: string, route: string): boolean {
  const p = pattern.split('/');
  const r = route.split('/');
  return p.length === r.length && p.every((seg, i) => seg.startsWith(':') || seg === r[i]);
}

/** The table's rule for a request, if it lists one. */
export function findRule(method: string, route: string): RouteRule | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return ROUTES.find((r) => r.method === m && matches(r.path, route));
}

/** The user `guard()` let through for this request. */
const admitted = new WeakMap<IncomingMessage, ConsoleUser>();

export class ApiGuard {
  private readonly refusals;

  constructor(
    readonly auth: ConsoleAuth,
    metrics: MetricsRegistry,
  ) {
    this.refusals = metrics.counter(
      'citygrid_http_refusals_total',
      'API requests refused by the access check, by route (its pattern in the route table, or "unlisted") and status (401 no session, 403 role not allowed).',
    );
  }

  /** Checks an /api request; sends 401/403 and returns undefined when refused, else the session's user. */
  guard(req: IncomingMessage, res: ServerResponse, route: string): ConsoleUser | undefined {
    const rule = findRule(req.method ?? 'GET', route);
    const label = rule?.path ?? 'unlisted';
    const user = this.auth.userOf(req);
    if (!user) {
      this.refusals.inc({ route: label, status: '401' });
      sendError(res, 401, 'unauthenticated', 'log in first (POST /api/login); the session is missing or has expired');
      return undefined;
    }
    const roles = rule?.roles ?? SUPERVISOR;
    if (!roles.includes(user.role)) {
      this.refusals.inc({ route: label, status: '403' });
      sendError(res, 403, 'forbidden', `${user.role} may not ${req.method} ${route}`);
      return undefined;
    }
    admitted.set(req, user);
    return user;
  }
}

/** The session's user of a request the guard admitted. Throws when called on one it did not see (a wiring bug). */
export function userOf(req: IncomingMessage): ConsoleUser {
  const user = admitted.get(req);
  if (!user) throw new Error(`no console user on ${req.method} ${req.url}: the route is not behind the guard`);
  return user;
}

/**
 * A finer role check inside a route the table admits (e.g. one body field only a supervisor may
 * set): sends 403 and returns undefined when the user's role is not among `roles`.
 */
export function requireRole(
  req: IncomingMessage,
  res: ServerResponse,
  ...roles: ConsoleRole[]
): ConsoleUser | undefined {
  const user = userOf(req);
  if (roles.includes(user.role)) return user;
  sendError(res, 403, 'forbidden', `${user.role} may not do this; it needs ${roles.join(' or ')}`);
  return undefined;
}
