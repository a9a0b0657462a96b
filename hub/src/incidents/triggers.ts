/**
 * Trigger rules (hub.yaml `incidents.triggers`): k devices of some kinds whose last reading met
 * every condition at most `window` ago, counted per district or city-wide, make a proposal. A
 * device stops counting when a reading of it no longer meets the conditions, or when its last
 * counting reading is older than the window.
 *
 * Pure: time is the readings' own ts (and the caller's clock on tick); the caller decides whether
 * a verdict becomes a proposal (not while an incident of the type is live there, not right after
 * a dismissal).
 */
import type { TriggerConfig } from '../../../config/schema/incidents.js';
import type { IncidentTrigger } from './model.js';

type Value = number | string | boolean;

export interface TriggerReading {
  device: string;
  kind: string;
  district: string;
  ts: number;
  fields: Record<string, Value>;
}

export interface TriggerVerdict {
  trigger: TriggerConfig;
  /** The district counted in, or undefined for a city-wide trigger. */
  district?: string;
  evidence: IncidentTrigger;
}

/** Whether a reading meets every condition; undefined when it lacks a field (it says nothing). */
export function meets(t: Pick<TriggerConfig, 'when'>, fields: Record<string, Value>): boolean | undefined {
  for (const c of t.when) {
    const v = fields[c.field];
    if (v === undefined) return undefined;
    if (c.above !== undefined && !(typeof v === 'number' && v >= c.above)) return false;
    if (c.below !== undefined && !(typeof v === 'number' && v <= c.below)) return false;
    if (c.in !== undefined && !c.in.includes(String(v))) return false;
  }
  return true;
}

interface Counted {
  ts: number;
  values: Record<string, Value>;
}

export class TriggerEvaluator {
  /** Per trigger, per scope key (district or `*`): device -> its last counting reading. */
  private readonly counted = new Map<string, Map<string, Map<string, Counted>>>();

  constructor(private readonly triggers: readonly TriggerConfig[]) {}

  /** One reading; returns the triggers it makes reach k (each verdict once per reading). */
  onReading(r: TriggerReading): TriggerVerdict[] {
    const out: TriggerVerdict[] = [];
    for (const t of this.triggers) {
      if (!t.deviceKinds.includes(r.kind)) continue;
      const ok = meets(t, r.fields);
      if (ok === undefined) continue;
      const key = t.scope === 'city' ? '*' : r.district;
      const devices = this.devicesOf(t.id, key);
      if (!ok) {
        devices.delete(r.device);
        continue;
      }
      const values: Record<string, Value> = {};
      for (const c of t.when) values[c.field] = r.fields[c.field] as Value;
      devices.set(r.device, { ts: r.ts, values });
      const verdict = this.verdict(t, key, devices, r.ts);
      if (verdict) out.push(verdict);
    }
    return out;
  }

  /** Forgets devices whose counting reading fell out of the window. */
  tick(now: number): void {
    for (const t of this.triggers)
      for (const devices of this.counted.get(t.id)?.values() ?? [])
        for (const [d, c] of devices) if (c.ts < now - t.window) devices.delete(d);
  }

  /** Devices counting now per trigger and scope key, for the situation view. */
  counts(now: number): { trigger: string; district?: string; devices: number; k: number }[] {
    const out: { trigger: string; district?: string; devices: number; k: number }[] = [];
    for (const t of this.triggers)
      for (const [key, devices] of this.counted.get(t.id) ?? []) {
        const n = [...devices.values()].filter((c) => c.ts >= now - t.window).length;
        if (n > 0) out.push({ trigger: t.id, ...(key === '*' ? {} : { district: key }), devices: n, k: t.k });
      }
    return out;
  }

  private verdict(
    t: TriggerConfig,
    key: string,
    devices: Map<string, Counted>,
    now: number,
  ): TriggerVerdict | undefined {
    const fresh = [...devices].filter(([, c]) => c.ts >= now - t.window);
    if (fresh.length < t.k) return undefined;
    return {
      trigger: t,
      ...(key === '*' ? {} : { district: key }),
      evidence: {
        rule: t.id,
        at: now,
        devices: fresh.map(([device, c]) => ({ device, ts: c.ts, values: c.values })).sort((a, b) => a.ts - b.ts),
      },
    };
  }

  private devicesOf(trigger: string, key: string): Map<string, Counted> {
    let byKey = this.counted.get(trigger);
    if (!byKey) {
      byKey = new Map();
      this.counted.set(trigger, byKey);
    }
    let devices = byKey.get(key);
    if (!devices) {
      devices = new Map();
      byKey.set(key, devices);
    }
    return devices;
  }
}
