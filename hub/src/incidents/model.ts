/**
 * The incident record and its lifecycle (issue 10): a flood or snow incident with a scope (some
 * districts, or the whole city) and a response level IV..I, `proposed` by a trigger rule or opened
 * by an operator, `open` while it drives the system, then `closed` (or `dismissed` as a proposal).
 * Every switch is an entry of its append-only history: who, when, why, at which level.
 *
 * Pure: no I/O and no clock; a refused switch throws a typed error the API answers with.
 */
import { INCIDENT_LEVELS, type IncidentLevel, type IncidentType } from '../../../config/schema/incidents.js';
import { CitygridError } from '../../../drivers/sdk/errors.js';

export const INCIDENT_STATES = ['proposed', 'open', 'closed', 'dismissed'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

export const INCIDENT_ACTIONS = ['propose', 'open', 'confirm', 'level', 'close', 'dismiss'] as const;
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number];

/** Districts, or the whole city. */
export type IncidentScope = { districts: string[] } | { city: true };

export interface IncidentHistoryEntry {
  /** 1, 2, 3… per incident. */
  seq: number;
  action: IncidentAction;
  /** User id of the operator, or `hub` for a trigger rule. */
  by: string;
  /** Role of `by` (city_supervisor, district_commander, system). */
  role?: string;
  /** ms since epoch, hub clock. */
  at: number;
  reason: string;
  /** Level after the switch (every entry carries it, so the history reads on its own). */
  level: IncidentLevel;
  /** Level before a `level` switch. */
  from?: IncidentLevel;
}

/** What made a trigger rule propose the incident. */
export interface IncidentTrigger {
  rule: string;
  /** Devices that counted, with the reading that counted. */
  devices: { device: string; ts: number; values: Record<string, number | string | boolean> }[];
  at: number;
}

export interface Incident {
  /** `INC-000001`, unique across restarts. */
  id: string;
  type: IncidentType;
  scope: IncidentScope;
  level: IncidentLevel;
  state: IncidentState;
  proposedAt?: number;
  openedAt?: number;
  /** When it was closed or dismissed. */
  endedAt?: number;
  updatedAt: number;
  trigger?: IncidentTrigger;
  history: IncidentHistoryEntry[];
}

export interface IncidentActor {
  id: string;
  role?: string;
}

export type IncidentErrorCode = 'incident-refused' | 'unknown-incident' | 'incident-overlap' | 'bad-scope';

const STATUS: Record<IncidentErrorCode, number> = {
  'incident-refused': 409,
  'unknown-incident': 404,
  'incident-overlap': 409,
  'bad-scope': 400,
};

/** A switch the incident cannot make; `status` is the HTTP status the API answers with. */
export class IncidentError extends CitygridError {
  readonly status: number;
  constructor(
    readonly reason: IncidentErrorCode,
    message: string,
  ) {
    super(reason, message);
    this.name = 'IncidentError';
    this.status = STATUS[reason];
  }
}

export const isLive = (state: IncidentState): boolean => state === 'proposed' || state === 'open';

/** The districts an incident covers (all of the city's for a city-wide one). */
export function scopeDistricts(scope: IncidentScope, allDistricts: readonly string[]): string[] {
  return 'city' in scope ? [...allDistricts] : [...scope.districts];
}

/** Checks a scope against the city's districts; throws IncidentError bad-scope. */
export function checkScope(scope: IncidentScope, allDistricts: readonly string[]): IncidentScope {
  if ('city' in scope) return { city: true };
  const unknown = scope.districts.filter((d) => !allDistricts.includes(d));
  if (scope.districts.length === 0) throw new IncidentError('bad-scope', 'a scope needs at least one district');
  if (unknown.length > 0)
    throw new IncidentError('bad-scope', `unknown districts ${unknown.join(', ')} (known: ${allDistricts.join(', ')})`);
  return { districts: [...new Set(scope.districts)].sort() };
}

const levelRank = (l: IncidentLevel) => INCIDENT_LEVELS.indexOf(l);

/** The more severe of two levels (I is the most severe). */
export const worseLevel = (a: IncidentLevel, b: IncidentLevel): IncidentLevel => (levelRank(a) >= levelRank(b) ? a : b);

function entry(
  i: Incident,
  action: IncidentAction,
  by: IncidentActor,
  at: number,
  reason: string,
  level: IncidentLevel,
  from?: IncidentLevel,
): IncidentHistoryEntry {
  return {
    seq: (i.history.at(-1)?.seq ?? 0) + 1,
    action,
    by: by.id,
    ...(by.role ? { role: by.role } : {}),
    at,
    reason,
    level,
    ...(from !== undefined ? { from } : {}),
  };
}

/** A new incident: `open` (an operator opened it) or `proposed` (a trigger rule raised it). */
export function newIncident(o: {
  id: string;
  type: IncidentType;
  scope: IncidentScope;
  level: IncidentLevel;
  state: 'open' | 'proposed';
  by: IncidentActor;
  at: number;
  reason: string;
  trigger?: IncidentTrigger;
}): Incident {
  const base: Incident = {
    id: o.id,
    type: o.type,
    scope: o.scope,
    level: o.level,
    state: o.state,
    ...(o.state === 'open' ? { openedAt: o.at } : { proposedAt: o.at }),
    updatedAt: o.at,
    ...(o.trigger ? { trigger: o.trigger } : {}),
    history: [],
  };
  base.history.push(entry(base, o.state === 'open' ? 'open' : 'propose', o.by, o.at, o.reason, o.level));
  return base;
}

export interface IncidentCommand {
  action: Exclude<IncidentAction, 'propose' | 'open'>;
  by: IncidentActor;
  at: number;
  reason: string;
  /** For `level`. */
  level?: IncidentLevel;
}

/** The allowed switches: from which states. */
const FROM: Record<IncidentCommand['action'], readonly IncidentState[]> = {
  confirm: ['proposed'],
  dismiss: ['proposed'],
  level: ['proposed', 'open'],
  close: ['open'],
};

/** Applies a switch; returns the new record (the old one is not changed). Throws IncidentError. */
export function switchIncident(i: Incident, cmd: IncidentCommand): Incident {
  if (!cmd.reason.trim()) throw new IncidentError('incident-refused', `"${cmd.action}" needs a reason`);
  if (!FROM[cmd.action].includes(i.state))
    throw new IncidentError(
      'incident-refused',
      `incident ${i.id} is ${i.state}; "${cmd.action}" needs it ${FROM[cmd.action].join(' or ')}`,
    );
  const next: Incident = { ...i, history: [...i.history], updatedAt: cmd.at };
  switch (cmd.action) {
    case 'confirm':
      next.state = 'open';
      next.openedAt = cmd.at;
      break;
    case 'dismiss':
      next.state = 'dismissed';
      next.endedAt = cmd.at;
      break;
    case 'close':
      next.state = 'closed';
      next.endedAt = cmd.at;
      break;
    case 'level': {
      if (cmd.level === undefined)
        throw new IncidentError('incident-refused', '"level" needs a level (IV, III, II, I)');
      if (cmd.level === i.level)
        throw new IncidentError('incident-refused', `incident ${i.id} is at level ${i.level} already`);
      next.level = cmd.level;
      next.history.push(entry(i, 'level', cmd.by, cmd.at, cmd.reason, cmd.level, i.level));
      return next;
    }
  }
  next.history.push(entry(i, cmd.action, cmd.by, cmd.at, cmd.reason, i.level));
  return next;
}

/** Districts two scopes share. */
export function sharedDistricts(a: IncidentScope, b: IncidentScope, allDistricts: readonly string[]): string[] {
  const bs = new Set(scopeDistricts(b, allDistricts));
  return scopeDistricts(a, allDistricts).filter((d) => bs.has(d));
}
