/**
 * Per-vehicle behaviour from live fixes in time order: dwell outside allowed places, off-route
 * driving while working, speeding while working. Each is an episode reported when it starts and
 * when it ends (with its duration and figures), and counted per local day. Pure.
 */
import { distance } from '@turf/turf';
import type { Vehicle } from '../../../config/schema/fleet.js';
import type { Band, Fix } from './judge.js';

export const INCIDENT_KINDS = ['dwell', 'off_route', 'speeding'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** A dwell, off-route or speeding episode starting or ending. */
export interface FleetIncident {
  vehicle: string;
  kind: IncidentKind;
  phase: 'start' | 'end';
  /** When the episode started (ms). */
  since: number;
  /** The fix that started or ended it (ms). */
  at: number;
  lon: number;
  lat: number;
  /** dwell: durationMs; off_route: metres, durationMs; speeding: maxKmh, limitKmh, durationMs. */
  detail: Record<string, number>;
}

/** Per local day counters of a vehicle. */
export interface Today {
  day: string;
  drivenM: number;
  workingM: number;
  dwells: number;
  offRoutes: number;
  offRouteM: number;
  speedings: number;
  maxSpeedKmh: number;
}

export interface VehicleState {
  /** Recent fixes in time order (late ones are placed between). */
  fixes: Fix[];
  today: Today;
  stop?: { since: number; lon: number; lat: number; reported: boolean };
  offRoute?: { since: number; m: number };
  speeding?: { since: number; maxKmh: number };
}

export const newToday = (day: string): Today => ({
  day,
  drivenM: 0,
  workingM: 0,
  dwells: 0,
  offRoutes: 0,
  offRouteM: 0,
  speedings: 0,
  maxSpeedKmh: 0,
});

export interface Episodes {
  incidents: FleetIncident[];
}

export interface WatchParams {
  band: Band;
  stopSpeedKmh: number;
  maxDwellMs: number;
  offRoute: (f: Fix) => boolean;
}

const metres = (a: { lon: number; lat: number }, b: { lon: number; lat: number }) =>
  distance([a.lon, a.lat], [b.lon, b.lat], { units: 'meters' });

/** Updates the vehicle's episodes with its newest fix; returns what started or ended. */
export function watchEpisodes(
  v: VehicleState,
  vehicle: string,
  config: Vehicle,
  f: Fix,
  prev: Fix | undefined,
  p: WatchParams,
): FleetIncident[] {
  const out: FleetIncident[] = [];
  const event = (kind: IncidentKind, phase: 'start' | 'end', since: number, detail: Record<string, number>) =>
    out.push({ vehicle, kind, phase, since, at: f.ts, lon: f.lon, lat: f.lat, detail });
  const stepM = prev ? metres(prev, f) : 0;
  const stepKmh = prev && f.ts > prev.ts ? stepM / 1000 / ((f.ts - prev.ts) / 3_600_000) : 0;
  const kmh = f.speedKmh ?? stepKmh;
  const moving = kmh >= p.stopSpeedKmh;
  v.today.maxSpeedKmh = Math.max(v.today.maxSpeedKmh, kmh);

  // Dwell: reported once the stop outlasts maxDwell away from every allowed stop.
  if (!moving) {
    v.stop ??= { since: f.ts, lon: f.lon, lat: f.lat, reported: false };
    const s = v.stop;
    if (!s.reported && f.ts - s.since > p.maxDwellMs) {
      const allowed = config.allowedStops.some((a) => metres({ lon: a.at[0], lat: a.at[1] }, s) <= a.radiusM);
      if (!allowed) {
        s.reported = true;
        v.today.dwells += 1;
        event('dwell', 'start', s.since, { durationMs: f.ts - s.since });
      } else s.reported = true; // at an allowed place: nothing to report for this stop
    }
  } else if (v.stop) {
    const s = v.stop;
    delete v.stop;
    const away = !config.allowedStops.some((a) => metres({ lon: a.at[0], lat: a.at[1] }, s) <= a.radiusM);
    if (s.reported && away) event('dwell', 'end', s.since, { durationMs: f.ts - s.since });
  }

  // Speeding while working: the gear on and faster than the role's band.
  if (f.gear && kmh > p.band.max) {
    if (!v.speeding) {
      v.speeding = { since: f.ts, maxKmh: kmh };
      v.today.speedings += 1;
      event('speeding', 'start', f.ts, { maxKmh: kmh, limitKmh: p.band.max });
    } else v.speeding.maxKmh = Math.max(v.speeding.maxKmh, kmh);
  } else if (v.speeding) {
    const s = v.speeding;
    delete v.speeding;
    event('speeding', 'end', s.since, { maxKmh: s.maxKmh, limitKmh: p.band.max, durationMs: f.ts - s.since });
  }

  // Off route while working: the gear on, moving, away from every road assigned at that time.
  if (f.gear && moving && p.offRoute(f)) {
    if (!v.offRoute) {
      v.offRoute = { since: f.ts, m: 0 };
      v.today.offRoutes += 1;
      event('off_route', 'start', f.ts, { metres: 0 });
    } else {
      v.offRoute.m += stepM;
      v.today.offRouteM += stepM;
    }
  } else if (v.offRoute) {
    const s = v.offRoute;
    delete v.offRoute;
    event('off_route', 'end', s.since, { metres: s.m, durationMs: f.ts - s.since });
  }
  return out;
}
