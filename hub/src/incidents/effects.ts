/**
 * What the open incidents ask of each district, computed from scratch after every switch (so
 * closing one incident leaves in force exactly what the others still ask): the rule profile, the
 * sample interval per device kind, and the hotspot assets whose cameras snapshot on a schedule.
 * Then, per gateway, the `cmd/sample-interval` commands that move its devices from what was sent
 * last to what is wanted now (`default` for kinds no incident wants any more).
 *
 * Pure.
 */
import type { CityConfig } from '../../../config/schema/city.js';
import { INCIDENT_LEVELS, type IncidentsConfig } from '../../../config/schema/incidents.js';
import type { Profile } from '../../../config/schema/rules.js';
import { type Incident, scopeDistricts } from './model.js';

export interface DistrictEffects {
  /** The incident whose profile the rules use here: the most severe level, then the latest opened. */
  governing: Incident;
  profile: Profile;
  /** Device kind -> sample interval, ms (the shortest any incident here asks for). */
  intervals: Map<string, number>;
}

export interface Hotspot {
  asset: string;
  district: string;
  cameras: { device: string; preset?: string }[];
  /** Snapshot period, ms (the shortest any incident asks for). */
  everyMs: number;
  incident: string;
}

const rank = (i: Incident) => INCIDENT_LEVELS.indexOf(i.level);

export function districtEffects(
  open: readonly Incident[],
  cfg: Pick<IncidentsConfig, 'flood' | 'snow'>,
  allDistricts: readonly string[],
): Map<string, DistrictEffects> {
  const out = new Map<string, DistrictEffects>();
  for (const i of open) {
    if (i.state !== 'open') continue;
    const response = cfg[i.type];
    const interval = response.sampleInterval[i.level];
    for (const d of scopeDistricts(i.scope, allDistricts)) {
      const cur = out.get(d);
      const governs =
        !cur ||
        rank(i) > rank(cur.governing) ||
        (rank(i) === rank(cur.governing) && (i.openedAt ?? 0) > (cur.governing.openedAt ?? 0));
      const intervals = cur?.intervals ?? new Map<string, number>();
      for (const kind of response.sampleKinds) intervals.set(kind, Math.min(intervals.get(kind) ?? interval, interval));
      out.set(d, governs ? { governing: i, profile: i.type, intervals } : { ...(cur as DistrictEffects), intervals });
    }
  }
  return out;
}

export function hotspots(
  open: readonly Incident[],
  cfg: Pick<IncidentsConfig, 'flood' | 'snow'>,
  city: Pick<CityConfig, 'assets' | 'districts'>,
): Hotspot[] {
  const all = city.districts.map((d) => d.id);
  const byAsset = new Map<string, Hotspot>();
  for (const i of open) {
    if (i.state !== 'open') continue;
    const response = cfg[i.type];
    const districts = new Set(scopeDistricts(i.scope, all));
    const everyMs = response.snapshotEvery[i.level];
    for (const a of city.assets) {
      if (!districts.has(a.district) || !response.hotspotAssetKinds.includes(a.kind) || !a.cameras?.length) continue;
      const cur = byAsset.get(a.id);
      if (cur && cur.everyMs <= everyMs) continue;
      byAsset.set(a.id, { asset: a.id, district: a.district, cameras: a.cameras, everyMs, incident: i.id });
    }
  }
  return [...byAsset.values()];
}

export interface SampleCommand {
  kinds: string[];
  /** ms, or default (the edge's configured rate). */
  interval: number | 'default';
}

/**
 * Commands that take a gateway from `sent` (kind -> interval last sent) to `wanted`. With `resend`
 * (the gateway was born again: its devices may be back at their configured rates) every wanted
 * interval is sent again, and `default` for every kind sent before and not wanted now.
 */
export function planSampleCommands(
  sent: ReadonlyMap<string, number>,
  wanted: ReadonlyMap<string, number>,
  resend = false,
): SampleCommand[] {
  const groups = new Map<number | 'default', string[]>();
  const add = (interval: number | 'default', kind: string) =>
    groups.set(interval, [...(groups.get(interval) ?? []), kind]);
  for (const [kind, ms] of wanted) if (resend || sent.get(kind) !== ms) add(ms, kind);
  for (const kind of sent.keys()) if (!wanted.has(kind)) add('default', kind);
  return [...groups].map(([interval, kinds]) => ({ kinds: kinds.sort(), interval }));
}
