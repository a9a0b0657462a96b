/**
 * The incident routes of the hub API (contracts §3):
 *
 *   GET  /api/incidents                    live incidents and those of the last week, newest first ({ items })
 *   POST /api/incidents                    { type: flood|snow, scope: { districts: [...] } | { city: true },
 *                                          level: IV|III|II|I, reason } -> 201 the incident (open)
 *   GET  /api/incidents/<id>               the incident with its history and the sample-interval commands sent in its scope
 *   POST /api/incidents/<id>/level         { level, reason }
 *   POST /api/incidents/<id>/close         { reason }
 *   POST /api/incidents/<id>/confirm       { reason }   a proposal becomes open
 *   POST /api/incidents/<id>/dismiss       { reason }   a proposal is set aside
 *   GET  /api/situation[?incident=<id>|?district=<id>]  the situation view (incidents/situation.ts)
 *
 * Who may: reading, every role (a district commander sees what touches their district); switching,
 * the city supervisor anywhere, a district commander only for incidents inside their district.
 * Errors: 400 bad-request / bad-scope, 403 forbidden, 404 unknown-incident, 409 incident-refused /
 * incident-overlap.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { INCIDENT_LEVELS, INCIDENT_TYPES } from '../../../config/schema/incidents.js';
import type { HubIncidents } from '../incidents/hub-incidents.js';
import { type Incident, IncidentError, scopeDistricts } from '../incidents/model.js';
import { type SituationDeps, situation } from '../incidents/situation.js';
import { allowMethods, readJson, type Send, type SendError } from './respond.js';

/** The operator behind a request (the console session, contracts §2). */
export interface Operator {
  id: string;
  role: string;
  district?: string;
}

/**
 * Answers 401/403 itself and returns undefined when the request may not go on; the auth guard of
 * the console. Without one (no console users configured), every request acts as the city supervisor.
 */
export type Authorize = (req: IncomingMessage, res: ServerResponse, roles: readonly string[]) => Operator | undefined;

export interface IncidentRouteDeps extends Omit<SituationDeps, 'incidents'> {
  incidents: HubIncidents;
  authorize?: Authorize;
}

const READ_ROLES = ['city_supervisor', 'district_commander', 'unit_handler'] as const;
const SWITCH_ROLES = ['city_supervisor', 'district_commander'] as const;
const ANONYMOUS: Operator = { id: 'operator', role: 'city_supervisor' };

const reason = z.string().trim().min(1, 'a reason is required').max(2000);
const scope = z.union([
  z.object({ districts: z.array(z.string().min(1)).min(1) }).strict(),
  z.object({ city: z.literal(true) }).strict(),
]);
const openBody = z.object({ type: z.enum(INCIDENT_TYPES), scope, level: z.enum(INCIDENT_LEVELS), reason }).strict();
const levelBody = z.object({ level: z.enum(INCIDENT_LEVELS), reason }).strict();
const reasonBody = z.object({ reason }).strict();

const SWITCHES = ['level', 'close', 'confirm', 'dismiss'] as const;

export function handleIncidentRoute(
  deps: IncidentRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: string,
  send: { json: Send; error: SendError },
): boolean {
  const [api, what, id, sub, extra] = route.split('/').slice(1).map(decodeURIComponent);
  if (api !== 'api' || extra !== undefined || (what !== 'incidents' && what !== 'situation')) return false;
  const method = req.method ?? 'GET';
  const only = (allowed: readonly string[]): boolean => allowMethods(req, res, route, allowed);
  const fail = (status: number, error: string, message: string): true => {
    send.error(res, status, error, message);
    return true;
  };
  const authorize = (roles: readonly string[]) => (deps.authorize ? deps.authorize(req, res, roles) : ANONYMOUS);
  const { incidents } = deps;
  const allDistricts = deps.city.districts.map((d) => d.id);
  /** A district commander acts and sees only inside their district. */
  const within = (op: Operator, districts: readonly string[]) =>
    op.role === 'city_supervisor' || (op.district !== undefined && districts.every((d) => d === op.district));
  const touches = (op: Operator, i: Incident) =>
    op.role !== 'district_commander' || incidents.districtsOf(i).includes(op.district ?? '');
  const view = (i: Incident) => ({
    ...i,
    districts: incidents.districtsOf(i),
    commands: incidents.commands(incidents.districtsOf(i), i.openedAt ?? Number.POSITIVE_INFINITY),
  });
  const withBody = (schema: z.ZodType, then: (body: never) => void) =>
    readJson(req).then(
      (raw) => {
        const parsed = schema.safeParse(raw);
        if (!parsed.success)
          return fail(
            400,
            'bad-request',
            parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
          );
        try {
          then(parsed.data as never);
        } catch (err) {
          if (err instanceof IncidentError) return fail(err.status, err.reason, err.message);
          throw err;
        }
      },
      (err: Error) => fail(400, 'bad-request', err.message),
    );

  if (what === 'situation') {
    if (id !== undefined) return false;
    if (!only(['GET', 'HEAD'])) return true;
    const op = authorize(READ_ROLES);
    if (!op) return true;
    const q = url.searchParams;
    let districts = allDistricts;
    const incidentId = q.get('incident') ?? undefined;
    if (incidentId !== undefined) {
      const i = incidents.get(incidentId);
      if (!i) return fail(404, 'unknown-incident', `no incident "${incidentId}"`);
      districts = incidents.districtsOf(i);
    }
    const district = q.get('district');
    if (district !== null) districts = districts.filter((d) => d === district);
    if (op.role === 'district_commander') districts = districts.filter((d) => d === op.district);
    send.json(res, 200, situation(deps, districts, incidentId));
    return true;
  }

  if (id === undefined) {
    if (method === 'GET' || method === 'HEAD') {
      const op = authorize(READ_ROLES);
      if (!op) return true;
      send.json(res, 200, {
        items: incidents
          .list()
          .filter((i) => touches(op, i))
          .map(view),
      });
      return true;
    }
    if (!only(['GET', 'HEAD', 'POST'])) return true;
    const op = authorize(SWITCH_ROLES);
    if (!op) return true;
    void withBody(openBody, (b: z.infer<typeof openBody>) => {
      const districts = scopeDistricts(b.scope, allDistricts);
      if (!within(op, districts))
        return fail(403, 'forbidden', `a district commander opens incidents in their district (${op.district}) only`);
      const i = incidents.open({ ...b, by: { id: op.id, role: op.role } });
      send.json(res, 201, view(i));
    });
    return true;
  }

  if (sub === undefined) {
    if (!only(['GET', 'HEAD'])) return true;
    const op = authorize(READ_ROLES);
    if (!op) return true;
    const i = incidents.get(id);
    if (!i || !touches(op, i)) return fail(404, 'unknown-incident', `no incident "${id}"`);
    send.json(res, 200, view(i));
    return true;
  }

  if (!(SWITCHES as readonly string[]).includes(sub)) return false;
  if (!only(['POST'])) return true;
  const op = authorize(SWITCH_ROLES);
  if (!op) return true;
  const action = sub as (typeof SWITCHES)[number];
  void withBody(action === 'level' ? levelBody : reasonBody, (b: { reason: string; level?: Incident['level'] }) => {
    const i = incidents.get(id);
    if (!i || !touches(op, i)) return fail(404, 'unknown-incident', `no incident "${id}"`);
    if (!within(op, incidents.districtsOf(i)))
      return fail(403, 'forbidden', `incident ${id} reaches beyond district ${op.district}`);
    const next = incidents.command(id, {
      action,
      by: { id: op.id, role: op.role },
      reason: b.reason,
      ...(b.level !== undefined ? { level: b.level } : {}),
    });
    send.json(res, 200, view(next));
  });
  return true;
}
