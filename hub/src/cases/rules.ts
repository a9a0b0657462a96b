/**
 * The rule engine: routes each reading and camera event to the rules that match it, keeps each
 * evaluator's state per (rule, key) in a map the store can persist (`changed()`, `load()`), and
 * turns verdicts into signals that carry category, place and the rule's case policy.
 */
import type { CategoryKey, Urgency } from '../../../config/schema/catalogue.js';
import type { Profile, RuleConfig } from '../../../config/schema/rules.js';
import * as ev from './rule-evaluators.js';

/** A reading as the case core sees it: the device's asset, asset kind and grid resolved by the hub. */
export interface Observation {
  device: string;
  /** Reading kind (device kind), e.g. flood. */
  kind: string;
  ts: number;
  fields: Record<string, number | boolean | string>;
  quality?: 'good' | 'uncertain' | 'bad';
  asset?: string;
  assetKind?: string;
  grid?: string;
}

export interface CameraObservation {
  type: string;
  device: string;
  ts: number;
  asset?: string;
  assetKind?: string;
  grid?: string;
}

export interface Signal {
  rule: string;
  /** video for camera rules, sensor for the others. */
  source: 'sensor' | 'video';
  category: CategoryKey;
  kind: ev.SignalKind;
  at: number;
  /** Urgency the signal asks for; undefined: the class default. */
  urgency?: Urgency;
  device?: string;
  asset?: string;
  grid?: string;
  value?: number;
  detail?: Record<string, unknown>;
  /** Case policy of the rule. */
  hold: number;
  autoClose: boolean;
  autoFile: boolean;
}

export interface RuleStateEntry {
  rule: string;
  key: string;
  state: unknown;
}

export interface RuleEngine {
  onReading(obs: Observation): Signal[];
  onCameraEvent(event: CameraObservation): Signal[];
  /** Time-driven verdicts (staleness, k-of-n windows expiring, camera quiet): call on a clock. */
  tick(now: number): Signal[];
  /** The city-wide profile (PUT /api/profile): used where the resolver names none. */
  setProfile(profile: Profile): void;
  readonly profile: Profile;
  /** The profile of a place (an incident's scope); undefined: the city-wide one. */
  setProfileResolver(resolve: ProfileResolver | undefined): void;
  /** The profile in force at a place: its incident's, else the city-wide one. */
  profileAt(place: Place): Profile;
  /** State entries changed since the last call (for the store). */
  changed(): RuleStateEntry[];
  /** Restores persisted state (after a restart); entries of rules no longer configured are ignored. */
  load(entries: readonly RuleStateEntry[]): void;
}

export interface Place {
  device?: string;
  asset?: string;
  grid?: string;
}

/** Which profile holds at a place; undefined: the city-wide one. */
export type ProfileResolver = (place: Place) => Profile | undefined;

/** Whether a rule applies to a device of `kind` on `asset` (of `assetKind`). */
export const matches = (rule: RuleConfig, o: { kind?: string; asset?: string; assetKind?: string }) =>
  (rule.match.deviceKinds.length === 0 || (o.kind !== undefined && rule.match.deviceKinds.includes(o.kind))) &&
  (rule.match.assetKinds.length === 0 || (o.assetKind !== undefined && rule.match.assetKinds.includes(o.assetKind))) &&
  (rule.match.assets.length === 0 || (o.asset !== undefined && rule.match.assets.includes(o.asset)));

export function createRuleEngine(rules: readonly RuleConfig[], initialProfile: Profile = 'normal'): RuleEngine {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const states = new Map<string, { rule: string; key: string; place: Place; state: unknown }>();
  const dirty = new Set<string>();
  let profile = initialProfile;
  let resolver: ProfileResolver | undefined;
  const profileAt = (place: Place): Profile => (resolver ? (resolver(place) ?? profile) : profile);

  const stateOf = <S>(rule: RuleConfig, key: string, place: Place, init: () => S): S => {
    const id = `${rule.id}\u0000${key}`;
    let entry = states.get(id);
    if (!entry) {
      entry = { rule: rule.id, key, place, state: init() };
      states.set(id, entry);
    }
    dirty.add(id);
    return entry.state as S;
  };

  const toSignals = (rule: RuleConfig, place: Place, verdicts: ev.Verdict[]): Signal[] =>
    verdicts.map((v) => ({
      rule: rule.id,
      source: rule.type === 'camera' ? 'video' : 'sensor',
      category: rule.category as CategoryKey,
      ...v,
      ...(v.urgency === undefined && rule.urgency !== undefined ? { urgency: rule.urgency } : {}),
      ...place,
      hold: rule.hold,
      autoClose: rule.autoClose,
      autoFile: rule.autoFile,
    }));

  return {
    get profile() {
      return profile;
    },
    setProfile(p) {
      profile = p;
    },
    setProfileResolver(r) {
      resolver = r;
    },
    profileAt,
    onReading(o) {
      const out: Signal[] = [];
      for (const rule of rules) {
        if (rule.type === 'camera' || !matches(rule, o)) continue;
        const devicePlace: Place = {
          device: o.device,
          ...(o.asset ? { asset: o.asset } : {}),
          ...(o.grid ? { grid: o.grid } : {}),
        };
        const deviceKey = o.asset ? `${o.asset}/${o.device}` : o.device;
        if (rule.type === 'staleness') {
          const st = stateOf<ev.PresenceState>(rule, deviceKey, devicePlace, () => ({ last: o.ts, raised: false }));
          out.push(...toSignals(rule, devicePlace, ev.stalenessSeen(st, o.ts)));
          continue;
        }
        const raw = o.fields[rule.field];
        if (typeof raw !== 'number' || o.quality === 'bad') continue;
        switch (rule.type) {
          case 'threshold': {
            const st = stateOf<ev.ThresholdState>(rule, deviceKey, devicePlace, () => ({ level: 0 }));
            out.push(...toSignals(rule, devicePlace, ev.threshold(rule, st, raw, o.ts, profileAt(devicePlace))));
            break;
          }
          case 'rate': {
            const st = stateOf<ev.RateState>(rule, deviceKey, devicePlace, () => ({ pts: [], raised: false }));
            out.push(...toSignals(rule, devicePlace, ev.rate(rule, st, raw, o.ts, profileAt(devicePlace))));
            break;
          }
          case 'deviation': {
            const st = stateOf<ev.DeviationState>(rule, deviceKey, devicePlace, () => ({
              n: 0,
              mean: 0,
              variance: 0,
              raised: false,
            }));
            out.push(...toSignals(rule, devicePlace, ev.deviation(rule, st, raw, o.ts, profileAt(devicePlace))));
            break;
          }
          case 'k-of-n': {
            const scope = rule.scope === 'asset' ? o.asset : o.grid;
            if (!scope) break;
            const place: Place =
              rule.scope === 'asset' ? { asset: scope, ...(o.grid ? { grid: o.grid } : {}) } : { grid: scope };
            const st = stateOf<ev.KOfNState>(rule, scope, place, () => ({ devices: {}, raised: false }));
            out.push(
              ...toSignals(
                rule,
                place,
                ev.kOfN(rule, st, o.ts, profileAt(place), { device: o.device, v: raw, ts: o.ts }),
              ),
            );
            break;
          }
        }
      }
      return out;
    },
    onCameraEvent(e) {
      const out: Signal[] = [];
      for (const rule of rules) {
        if (rule.type !== 'camera' || !rule.events.includes(e.type) || !matches(rule, { ...e, kind: undefined }))
          continue;
        const place: Place = {
          device: e.device,
          ...(e.asset ? { asset: e.asset } : {}),
          ...(e.grid ? { grid: e.grid } : {}),
        };
        const st = stateOf<ev.PresenceState>(rule, e.asset ?? e.device, place, () => ({ last: e.ts, raised: false }));
        out.push(...toSignals(rule, place, ev.cameraEvent(st, e.ts, e.type)));
      }
      return out;
    },
    tick(now) {
      const out: Signal[] = [];
      for (const [id, entry] of states) {
        const rule = byId.get(entry.rule);
        let verdicts: ev.Verdict[] = [];
        if (rule?.type === 'staleness')
          verdicts = ev.stalenessTick(rule, entry.state as ev.PresenceState, now, profileAt(entry.place));
        else if (rule?.type === 'k-of-n')
          verdicts = ev.kOfN(rule, entry.state as ev.KOfNState, now, profileAt(entry.place));
        else if (rule?.type === 'camera') verdicts = ev.cameraTick(rule, entry.state as ev.PresenceState, now);
        if (verdicts.length > 0 && rule) {
          dirty.add(id);
          out.push(...toSignals(rule, entry.place, verdicts));
        }
      }
      return out;
    },
    changed() {
      const out: RuleStateEntry[] = [];
      for (const id of dirty) {
        const e = states.get(id);
        if (e) out.push({ rule: e.rule, key: e.key, state: { place: e.place, value: e.state } });
      }
      dirty.clear();
      return out;
    },
    load(entries) {
      for (const e of entries) {
        if (!byId.has(e.rule)) continue;
        const { place, value } = e.state as { place: Place; value: unknown };
        states.set(`${e.rule}\u0000${e.key}`, { rule: e.rule, key: e.key, place, state: structuredClone(value) });
      }
    },
  };
}
