/**
 * Road-closure recommendations at underpasses (shared/domain §7.2: close at 25 cm), with
 * hysteresis: raised when an asset's water depth reaches its closure depth, lifted only once the
 * depth has stayed below a lower depth for a hold time (a depth bobbing around 25 cm must not
 * flap the recommendation). The depth of an asset is the highest latest value of its gauges.
 * Also keeps each asset's recent depths for the situation view's trend.
 *
 * Pure: time is the readings' own ts; the caller persists and publishes what it returns.
 */
import type { ClosureConfig } from '../../../config/schema/incidents.js';

export interface Closure {
  /** `<asset>@<raisedAt>`. */
  id: string;
  asset: string;
  inForce: boolean;
  raisedAt: number;
  /** Depth that raised it, cm. */
  raisedDepthCm: number;
  closeAtCm: number;
  liftBelowCm: number;
  /** Deepest seen while in force, cm. */
  maxDepthCm: number;
  liftedAt?: number;
  /** Depth when lifted, cm. */
  liftedDepthCm?: number;
  /** Incident open in the asset's district when it was raised. */
  incident?: string;
  /** The open 道路积水 case of the asset when it was raised (the closure is recommended on it). */
  case?: string;
}

export interface ClosureChange {
  action: 'raised' | 'lifted';
  closure: Closure;
}

export type Trend = 'rising' | 'falling' | 'steady' | 'unknown';

interface AssetState {
  /** Latest depth per gauge. */
  gauges: Map<string, number>;
  /** Since when the depth has been below the lift depth (in force only). */
  belowSince?: number;
  closure?: Closure;
  /** Recent [ts, depth] samples for the trend, oldest first. */
  samples: [number, number][];
}

/** Depth samples kept for the trend: this far back. */
export const TREND_WINDOW_MS = 15 * 60_000;
/** A slope smaller than this (cm/h) is steady. */
const STEADY_CM_PER_H = 1;
const MAX_SAMPLES = 256;

export class ClosureMonitor {
  private readonly assets = new Map<string, AssetState>();

  constructor(private readonly cfg: ClosureConfig) {}

  limits(asset: string): { closeAtCm: number; liftBelowCm: number } {
    const o = this.cfg.assets[asset];
    return { closeAtCm: o?.closeAtCm ?? this.cfg.closeAtCm, liftBelowCm: o?.liftBelowCm ?? this.cfg.liftBelowCm };
  }

  /** Restores closures in force (after a restart). */
  load(closures: readonly Closure[]): void {
    for (const c of closures) if (c.inForce) this.state(c.asset).closure = { ...c };
  }

  /** A depth reading of one gauge on an asset; returns the change it causes, if any. */
  onDepth(
    asset: string,
    device: string,
    depthCm: number,
    ts: number,
    context: () => { incident?: string; case?: string } = () => ({}),
  ): ClosureChange | undefined {
    const st = this.state(asset);
    st.gauges.set(device, depthCm);
    const depth = Math.max(...st.gauges.values());
    st.samples.push([ts, depth]);
    while (st.samples.length > MAX_SAMPLES || (st.samples[0] as [number, number])[0] < ts - TREND_WINDOW_MS)
      st.samples.shift();
    const { closeAtCm, liftBelowCm } = this.limits(asset);
    const c = st.closure;
    if (!c) {
      if (depth < closeAtCm) return undefined;
      const closure: Closure = {
        id: `${asset}@${ts}`,
        asset,
        inForce: true,
        raisedAt: ts,
        raisedDepthCm: depth,
        closeAtCm,
        liftBelowCm,
        maxDepthCm: depth,
        ...context(),
      };
      st.closure = closure;
      delete st.belowSince;
      return { action: 'raised', closure: { ...closure } };
    }
    c.maxDepthCm = Math.max(c.maxDepthCm, depth);
    if (depth >= liftBelowCm) {
      delete st.belowSince;
      return undefined;
    }
    st.belowSince ??= ts;
    if (ts - st.belowSince < this.cfg.liftHold) return undefined;
    const lifted: Closure = { ...c, inForce: false, liftedAt: ts, liftedDepthCm: depth };
    delete st.closure;
    delete st.belowSince;
    return { action: 'lifted', closure: lifted };
  }

  /** Closures in force, oldest first. */
  inForce(): Closure[] {
    return [...this.assets.values()]
      .flatMap((s) => (s.closure ? [{ ...s.closure }] : []))
      .sort((a, b) => a.raisedAt - b.raisedAt);
  }

  /** Current depth of an asset (highest latest gauge value), if any gauge reported. */
  depth(asset: string): number | undefined {
    const g = this.assets.get(asset)?.gauges;
    return g && g.size > 0 ? Math.max(...g.values()) : undefined;
  }

  /** Depth change over the trend window in cm/h, and what it says. */
  trend(asset: string): { trend: Trend; cmPerHour?: number } {
    const s = this.assets.get(asset)?.samples ?? [];
    const first = s[0];
    const last = s.at(-1);
    if (!first || !last || last[0] - first[0] < 60_000) return { trend: 'unknown' };
    const cmPerHour = ((last[1] - first[1]) * 3_600_000) / (last[0] - first[0]);
    const trend = Math.abs(cmPerHour) < STEADY_CM_PER_H ? 'steady' : cmPerHour > 0 ? 'rising' : 'falling';
    return { trend, cmPerHour: Math.round(cmPerHour * 10) / 10 };
  }

  private state(asset: string): AssetState {
    let st = this.assets.get(asset);
    if (!st) {
      st = { gauges: new Map(), samples: [] };
      this.assets.set(asset, st);
    }
    return st;
  }
}
