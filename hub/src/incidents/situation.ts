/**
 * The situation view (`GET /api/situation[?incident=<id>]`): in the incident's districts (or the
 * districts given), every underpass by water depth with its trend and closure, closures in force,
 * rain at the gauges, road-surface states, open cases by urgency and age, vehicle positions with
 * the coverage of priority roads where the fleet judging provides it, and gateways offline.
 * Built from what the hub holds in memory (latest readings, the closure monitor, the registry) and
 * the open cases in cases.db.
 */

import { URGENCIES } from '../../../config/schema/catalogue.js';
import type { CityConfig } from '../../../config/schema/city.js';
import type { HubCases } from '../cases/hub-cases.js';
import type { HubFleet } from '../fleet/hub-fleet.js';
import { fleetJson, roadsJson } from '../fleet/views.js';
import type { GatewayRegistry } from '../ingest/gateways.js';
import type { LatestValueCache } from '../live/latest-cache.js';
import type { HubIncidents } from './hub-incidents.js';

/** Coverage of priority roads per vehicle, when the fleet judging is wired in (contracts §1). */
export type CoverageProvider = (districts: readonly string[]) => unknown;

/**
 * The fleet judging's view for the situation: the judged vehicles of the districts (ploughs,
 * spreaders, sweepers…: position, working state, coverage of their segments today) and today's
 * coverage of the districts' priority roads by any working vehicle; with priority roads, the snow
 * plan (ploughs and spreaders on them, each snow incident's plan and deadline).
 */
export function fleetCoverage(fleet: HubFleet, city: Pick<CityConfig, 'roads'>, now: () => number): CoverageProvider {
  return (districts) => {
    const at = now();
    const vehicles = districts.flatMap(
      (district) => (fleetJson(fleet, at, { district }).vehicles as Record<string, unknown>[]) ?? [],
    );
    const ids = city.roads.filter((r) => r.priority && districts.includes(r.district)).map((r) => r.id);
    const priorityRoads = ids.length > 0 ? roadsJson(fleet, at, ids).roads : [];
    // The snow plan: coverage of the priority roads by ploughs and spreaders, and the incidents' plans.
    return { vehicles, priorityRoads, ...(fleet.snow ? { snowPlan: fleet.snow.view(districts, at) } : {}) };
  };
}

export interface SituationDeps {
  incidents: HubIncidents;
  latest: LatestValueCache;
  registry: GatewayRegistry;
  city: Pick<CityConfig, 'districts' | 'assets'>;
  cases?: HubCases;
  coverage?: CoverageProvider;
  now?: () => number;
}

const AGE_BUCKETS: [string, number][] = [
  ['<1h', 3_600_000],
  ['1-4h', 4 * 3_600_000],
  ['4-24h', 24 * 3_600_000],
  ['>24h', Number.POSITIVE_INFINITY],
];

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

export function situation(
  deps: SituationDeps,
  districts: readonly string[],
  incidentId?: string,
): Record<string, unknown> {
  const now = (deps.now ?? Date.now)();
  const inScope = new Set(districts);
  const { incidents, latest } = deps;
  const readings = latest.query().filter((r) => inScope.has(r.district));

  const underpasses = deps.city.assets
    .filter((a) => a.kind === 'underpass' && inScope.has(a.district))
    .map((a) => {
      const gauges = readings.filter((r) => (r.asset ?? r.reading.asset) === a.id && r.reading.kind === 'flood');
      const depthCm = incidents.closures.depth(a.id) ?? maxOf(gauges.map((g) => num(g.reading.fields.water_level_cm)));
      const closure = incidents.closures.inForce().find((c) => c.asset === a.id);
      return {
        asset: a.id,
        name: a.name,
        district: a.district,
        ...(depthCm !== undefined ? { depthCm } : {}),
        ...incidents.closures.trend(a.id),
        ...incidents.closures.limits(a.id),
        closed: closure !== undefined,
        ...(closure ? { closure } : {}),
        lastTs: maxOf(gauges.map((g) => g.reading.ts)),
        devices: gauges.map((g) => g.reading.device),
      };
    })
    .sort((x, y) => (y.depthCm ?? Number.NEGATIVE_INFINITY) - (x.depthCm ?? Number.NEGATIVE_INFINITY));

  const rain = readings
    .filter((r) => r.reading.fields.rain_intensity_mmh !== undefined || r.reading.fields.rain_total_mm !== undefined)
    .map((r) => ({
      device: r.reading.device,
      district: r.district,
      ...(r.asset ? { asset: r.asset } : {}),
      intensityMmh: num(r.reading.fields.rain_intensity_mmh),
      totalMm: num(r.reading.fields.rain_total_mm),
      ts: r.reading.ts,
    }));
  const rainByDistrict = Object.fromEntries(
    districts.map((d) => {
      const here = rain.filter((x) => x.district === d);
      return [
        d,
        {
          gauges: here.length,
          maxIntensityMmh: maxOf(here.map((x) => x.intensityMmh)),
          maxTotalMm: maxOf(here.map((x) => x.totalMm)),
        },
      ];
    }),
  );

  const roads = readings
    .filter((r) => r.reading.kind === 'road_weather')
    .map((r) => ({
      device: r.reading.device,
      district: r.district,
      ...(r.asset ? { asset: r.asset } : {}),
      surfaceTempC: num(r.reading.fields.surface_temp_c),
      surfaceState: r.reading.fields.surface_state,
      airTempC: num(r.reading.fields.air_temp_c),
      ts: r.reading.ts,
    }))
    .sort((a, b) => (a.surfaceTempC ?? Number.POSITIVE_INFINITY) - (b.surfaceTempC ?? Number.POSITIVE_INFINITY));

  const open = (deps.cases?.service.store.openCases() ?? []).filter((c) => c.district && inScope.has(c.district));
  const byUrgency = Object.fromEntries(URGENCIES.map((u) => [u, open.filter((c) => c.urgency === u).length]));
  const byAge = Object.fromEntries(AGE_BUCKETS.map(([k]) => [k, 0]));
  for (const c of open) {
    const bucket = AGE_BUCKETS.find(([, max]) => now - c.reportedAt < max)?.[0] as string;
    byAge[bucket] = (byAge[bucket] ?? 0) + 1;
  }
  const worst = [...open]
    .sort((a, b) => URGENCIES.indexOf(b.urgency) - URGENCIES.indexOf(a.urgency) || a.reportedAt - b.reportedAt)
    .slice(0, 20)
    .map((c) => ({
      id: c.id,
      category: c.category,
      urgency: c.urgency,
      state: c.state,
      district: c.district,
      asset: c.asset,
      reportedAt: c.reportedAt,
      ageMs: now - c.reportedAt,
      ...(c.incident ? { incident: c.incident } : {}),
    }));

  const vehicles = readings
    .filter((r) => r.reading.kind === 'vehicle')
    .map((r) => ({
      device: r.reading.device,
      district: r.district,
      lon: num(r.reading.fields.lon),
      lat: num(r.reading.fields.lat),
      speedKmh: num(r.reading.fields.speed_kmh),
      ts: r.reading.ts,
    }));

  const gateways = deps.registry.listGateways().filter((g) => inScope.has(g.district));
  const live = incidents
    .list()
    .filter(
      (i) => (i.state === 'open' || i.state === 'proposed') && incidents.districtsOf(i).some((d) => inScope.has(d)),
    )
    .map(({ history, ...rest }) => ({ ...rest, last: history.at(-1) }));

  return {
    at: now,
    ...(incidentId ? { incident: incidentId } : {}),
    districts,
    incidents: live,
    profiles: Object.fromEntries(
      districts.map((d) => {
        const e = incidents.effectsIn(d);
        return [
          d,
          e
            ? { profile: e.profile, incident: e.governing.id, intervals: Object.fromEntries(e.intervals) }
            : { profile: 'normal' },
        ];
      }),
    ),
    underpasses,
    closures: incidents.closures.inForce().filter((c) => underpasses.some((u) => u.asset === c.asset)),
    rain: { byDistrict: rainByDistrict, gauges: rain },
    roads,
    cases: { open: open.length, byUrgency, byAge, worst },
    vehicles,
    ...(deps.coverage ? { coverage: deps.coverage(districts) } : {}),
    hotspots: incidents.hotspots().filter((h) => inScope.has(h.district)),
    triggers: incidents.triggers.counts(now).filter((t) => t.district === undefined || inScope.has(t.district)),
    gateways: {
      online: gateways.filter((g) => g.online).length,
      offline: gateways.filter((g) => !g.online).map((g) => ({ id: g.id, district: g.district, lastSeen: g.lastSeen })),
    },
  };
}

function maxOf(values: readonly (number | undefined)[]): number | undefined {
  const nums = values.filter((v): v is number => v !== undefined);
  return nums.length > 0 ? Math.max(...nums) : undefined;
}
