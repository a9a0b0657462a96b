/**
 * One incremental evaluator per rule type. Each keeps a small JSON state per (rule, key) — key is
 * the device on its asset, or the asset/grid cell for k-of-n — and turns one reading (or a tick of
 * the clock) into signals. Nothing here rescans history or reads a clock.
 */
import type { Urgency } from '../../../config/schema/catalogue.js';
import type { Profile, RuleConfig } from '../../../config/schema/rules.js';

export type SignalKind = 'raise' | 'worsen' | 'normal';

/** What an evaluator says; the engine adds rule, category, place and policy. */
export interface Verdict {
  kind: SignalKind;
  at: number;
  urgency?: Urgency;
  value?: number;
  detail?: Record<string, unknown>;
}

type Rule<T extends RuleConfig['type']> = Extract<RuleConfig, { type: T }>;
const HOUR = 3_600_000;
/** A rate rule keeps at most this many samples per device (the oldest go first). */
const MAX_RATE_SAMPLES = 512;

export interface ThresholdState {
  /** Levels reached (0: none). */
  level: number;
  /** Since when the value has been past the next level, for minDuration. */
  since?: number;
}

export function threshold(
  rule: Rule<'threshold'>,
  st: ThresholdState,
  v: number,
  ts: number,
  profile: Profile,
): Verdict[] {
  const levels = rule.levels[profile] ?? rule.levels.normal;
  const sign = rule.direction === 'above' ? 1 : -1;
  const reachedCount = (x: number) => levels.filter((l) => sign * x >= sign * l.at).length;
  const target = reachedCount(v);
  if (target > st.level) {
    st.since ??= ts;
    if (ts - st.since < rule.minDuration) return [];
    const before = st.level;
    st.level = target;
    delete st.since;
    const urgency = levels[target - 1]?.urgency as Urgency;
    return [{ kind: before === 0 ? 'raise' : 'worsen', at: ts, urgency, value: v, detail: { level: target } }];
  }
  delete st.since;
  if (st.level === 0) return [];
  // A level is left only once the value is `hysteresis` back past it.
  const kept = Math.min(st.level, reachedCount(v + sign * rule.hysteresis));
  st.level = kept;
  return kept === 0 ? [{ kind: 'normal', at: ts, value: v }] : [];
}

export interface RateState {
  pts: [number, number][];
  raised: boolean;
}

export function rate(rule: Rule<'rate'>, st: RateState, v: number, ts: number, profile: Profile): Verdict[] {
  st.pts.push([ts, v]);
  while (
    st.pts.length > MAX_RATE_SAMPLES ||
    ((st.pts[0] as [number, number])[0] < ts - rule.window && st.pts.length > 2)
  ) {
    st.pts.shift();
  }
  const [t0, v0] = st.pts[0] as [number, number];
  // A change over a sliver of the window is noise, not a rate.
  if (ts - t0 < rule.window / 2) return [];
  const perHour = ((v - v0) * HOUR) / (ts - t0);
  const limit = rule.perHour[profile] ?? rule.perHour.normal;
  const bad =
    rule.direction === 'rise'
      ? perHour > limit
      : rule.direction === 'fall'
        ? -perHour > limit
        : Math.abs(perHour) > limit;
  const detail = { perHour: Math.round(perHour * 1e6) / 1e6, limit };
  if (bad && !st.raised) {
    st.raised = true;
    return [{ kind: 'raise', at: ts, value: v, detail }];
  }
  if (!bad && st.raised) {
    st.raised = false;
    return [{ kind: 'normal', at: ts, value: v, detail }];
  }
  return [];
}

export interface DeviationState {
  n: number;
  mean: number;
  variance: number;
  raised: boolean;
}

export function deviation(
  rule: Rule<'deviation'>,
  st: DeviationState,
  v: number,
  ts: number,
  profile: Profile,
): Verdict[] {
  const out: Verdict[] = [];
  if (st.n >= rule.samples) {
    const sd = Math.sqrt(st.variance);
    const distance = Math.abs(v - st.mean);
    const sigmas = rule.sigmas[profile] ?? rule.sigmas.normal;
    const bad = distance > sigmas * sd && distance >= rule.minDeviation;
    const detail = { mean: st.mean, sd, sigmas };
    if (bad) {
      // The baseline does not learn the anomaly it is raising.
      if (!st.raised) out.push({ kind: 'raise', at: ts, value: v, detail });
      st.raised = true;
      return out;
    }
    if (st.raised) out.push({ kind: 'normal', at: ts, value: v, detail });
    st.raised = false;
  }
  const alpha = 2 / (rule.samples + 1);
  if (st.n === 0) st.mean = v;
  const diff = v - st.mean;
  const incr = alpha * diff;
  st.mean += incr;
  st.variance = (1 - alpha) * (st.variance + diff * incr);
  st.n += 1;
  return out;
}

export interface PresenceState {
  last: number;
  raised: boolean;
}

export function stalenessSeen(st: PresenceState, ts: number): Verdict[] {
  st.last = Math.max(st.last, ts);
  if (!st.raised) return [];
  st.raised = false;
  return [{ kind: 'normal', at: ts }];
}

export function stalenessTick(rule: Rule<'staleness'>, st: PresenceState, now: number, profile: Profile): Verdict[] {
  const max = rule.maxSilence[profile] ?? rule.maxSilence.normal;
  if (st.raised || now - st.last <= max) return [];
  st.raised = true;
  return [{ kind: 'raise', at: now, detail: { silentMs: now - st.last, lastSeen: st.last } }];
}

export interface KOfNState {
  devices: Record<string, { ts: number; over: boolean }>;
  raised: boolean;
}

export function kOfN(
  rule: Rule<'k-of-n'>,
  st: KOfNState,
  now: number,
  profile: Profile,
  reading?: { device: string; v: number; ts: number },
): Verdict[] {
  if (reading) {
    const limit = rule.above[profile] ?? rule.above.normal;
    st.devices[reading.device] = { ts: reading.ts, over: reading.v >= limit };
  }
  const all = Object.values(st.devices);
  const count = all.filter((d) => d.over && d.ts >= now - rule.window).length;
  const detail = { count, n: all.length, k: rule.k };
  if (count >= rule.k && !st.raised) {
    st.raised = true;
    return [{ kind: 'raise', at: now, ...(reading ? { value: reading.v } : {}), detail }];
  }
  if (count < rule.k && st.raised) {
    st.raised = false;
    return [{ kind: 'normal', at: now, detail }];
  }
  return [];
}

export function cameraEvent(st: PresenceState, ts: number, type: string): Verdict[] {
  st.last = Math.max(st.last, ts);
  st.raised = true;
  // Every matching event is a signal: correlation counts the repeats on the open case.
  return [{ kind: 'raise', at: ts, detail: { event: type } }];
}

export function cameraTick(rule: Rule<'camera'>, st: PresenceState, now: number): Verdict[] {
  if (!st.raised || now - st.last < rule.clearAfter) return [];
  st.raised = false;
  return [{ kind: 'normal', at: now }];
}
