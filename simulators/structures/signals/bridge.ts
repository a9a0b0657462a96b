/**
 * A girder bridge as its structural-health logger sees it. The deck's temperature lags the air
 * (hours); strain, expansion-joint displacement, deflection, tilt and crack width follow it
 * (thermal drift, the daily cycle), traffic adds load and vibration, an overload adds a spike, and
 * a crack widens slowly. Acceleration is a pure function of time: the first bending mode (a few
 * Hz) excited by vehicles arriving at random (more at rush hour), decaying after each one.
 * Stepped by the scene; values in the Reading field units (drivers/sdk/fields.ts).
 */
import type { Environment } from './environment.js';
import { hashUnit } from './environment.js';

export interface BridgeOptions {
  startMs: number;
  seed: number;
  /** Span, m (thermal expansion length). Default 40. */
  spanM?: number;
  /** First bending mode, Hz. Default 2.2..3.8 from the seed. */
  modeHz?: number;
  /** Crack width at the start, mm. Default 0.06..0.10 from the seed. */
  crackMm?: number;
  /** Crack growth, mm per day. Default 0.002. */
  crackGrowthMmPerDay?: number;
}

/** An overload crossing the bridge (a truck far above the design load). */
export interface LoadSpike {
  startMs: number;
  durationS: number;
  /** 1 = the overload the limits are set for: deflection crosses L/600, acceleration 0.5 g. */
  factor: number;
}

export interface BridgeValues {
  strain_ue: number;
  deflection_mm: number;
  displacement_mm: number;
  tilt_x_mrad: number;
  tilt_y_mrad: number;
  crack_width_mm: number;
  temperature_c: number;
}

const REF_C = 15;
const G = 9.80665;
/** Time a vehicle's vibration needs to die away (5 time constants of 1.2 s). */
const RING_S = 6;

export class BridgeSignals {
  readonly modeHz: number;
  private readonly spanM: number;
  private readonly growthPerMs: number;
  private deckC: number | undefined;
  private crackBase: number;
  private at: number;
  private noise = 0;
  private readonly spikes: LoadSpike[] = [];
  private readonly seed: number;

  constructor(private readonly opts: BridgeOptions) {
    this.seed = opts.seed;
    this.spanM = opts.spanM ?? 40;
    this.modeHz = opts.modeHz ?? 2.2 + 1.6 * hashUnit(opts.seed, 1);
    this.crackBase = opts.crackMm ?? 0.06 + 0.04 * hashUnit(opts.seed, 2);
    this.growthPerMs = (opts.crackGrowthMmPerDay ?? 0.002) / 86_400_000;
    this.at = opts.startMs;
  }

  /** Integrates the deck temperature and the crack from the last step to `ms` (`env` already at `ms`). */
  step(env: Environment, ms: number): void {
    const dtS = (ms - this.at) / 1000;
    if (dtS <= 0) return;
    // deck temperature: first-order lag (2.5 h) behind the air warmed by the sun on the deck
    const drive = env.airC + 4 * env.daylightAt(ms);
    if (this.deckC === undefined) this.deckC = drive;
    this.deckC += (drive - this.deckC) * (1 - Math.exp(-dtS / 9000));
    this.crackBase += this.growthPerMs * (ms - this.at);
    // spikes that ended since the last step leave a little permanent crack opening behind
    for (let i = this.spikes.length - 1; i >= 0; i--) {
      const s = this.spikes[i] as LoadSpike;
      if (s.startMs + s.durationS * 1000 > ms) continue;
      this.crackBase += 0.004 * s.factor;
      this.spikes.splice(i, 1);
    }
    this.noise = hashUnit(this.seed + 7, Math.floor(ms / 1000)) - 0.5;
    this.at = ms;
  }

  /** Scenario hook: an overload starting at `startMs`. */
  triggerLoadSpike(spike: LoadSpike): void {
    if (!(spike.factor > 0 && spike.factor <= 5)) throw new RangeError('load spike factor must be in (0, 5]');
    if (!(spike.durationS > 0 && spike.durationS <= 600)) throw new RangeError('load spike duration must be 0..600 s');
    this.spikes.push(spike);
  }

  /** 0..1: how much of an overload is on the deck at `ms` (a raised cosine over its crossing). */
  spikeAt(ms: number): number {
    let sum = 0;
    for (const s of this.spikes) {
      const x = (ms - s.startMs) / (s.durationS * 1000);
      if (x > 0 && x < 1) sum += s.factor * 0.5 * (1 - Math.cos(2 * Math.PI * x));
    }
    return sum;
  }

  /** The logger's channels at the last step. */
  values(env: Environment): BridgeValues {
    const ms = this.at;
    const dT = (this.deckC ?? env.airC) - REF_C;
    const traffic = env.trafficAt(ms);
    const spike = this.spikeAt(ms);
    return {
      strain_ue: 40 + 11.5 * dT + 30 * traffic + 250 * spike + 1.5 * this.noise,
      // a warm deck cambers upwards; vehicles push it down
      deflection_mm: 5 - 0.25 * dT + 3 * traffic + 70 * spike + 0.1 * this.noise,
      // free expansion: α = 12e-6 /K over the span, in mm
      displacement_mm: 12e-6 * this.spanM * 1000 * dT,
      tilt_x_mrad: 0.35 + 0.02 * dT + 0.2 * spike + 0.005 * this.noise,
      tilt_y_mrad: -0.07 + 0.01 * dT + 0.003 * this.noise,
      // cracks open when the concrete contracts (cold) and under load
      crack_width_mm: Math.max(0, this.crackBase - 0.002 * dT + 0.01 * spike),
      temperature_c: this.deckC ?? env.airC,
    };
  }

  /**
   * Vertical acceleration, g, at vibration time `t` seconds (its own timeline: a logger samples in
   * real time even when sim time runs faster) with the traffic and any overload of sim time
   * `simMs`: the first mode at modeHz excited by each vehicle (1-s slots; a vehicle arrives in a
   * slot with a probability that follows traffic), a weak second mode, ambient wind buffeting,
   * sensor noise, and the forced vibration of an overload. With speedup 1, t = (simMs - start) / 1000.
   */
  accelerationG(env: Environment, simMs: number, t = (simMs - this.opts.startMs) / 1000): number {
    const w = 2 * Math.PI * this.modeHz;
    const traffic = env.trafficAt(simMs);
    let a = 0.0015 * Math.sin(w * t) * (1 + 0.3 * Math.sin(2 * Math.PI * 0.05 * t));
    a += 0.0016 * (hashUnit(this.seed + 3, Math.round(t * 1000)) - 0.5);
    const slot = Math.floor(t);
    for (let k = slot - RING_S; k <= slot; k++) {
      if (hashUnit(this.seed + 11, k) >= 0.1 + 0.6 * traffic) continue;
      const tb = k + hashUnit(this.seed + 13, k);
      if (t < tb) continue;
      const heavy = hashUnit(this.seed + 17, k) < 0.05;
      const amp = heavy ? 0.12 : 0.01 + 0.04 * hashUnit(this.seed + 19, k);
      const age = t - tb;
      a += amp * Math.exp(-age / 1.2) * Math.sin(w * age);
      a += 0.3 * amp * Math.exp(-age / 0.5) * Math.sin(2.7 * w * age);
    }
    a += 0.6 * this.spikeAt(simMs) * Math.sin(w * t);
    return a;
  }

  /**
   * RMS and peak of |a| over the `windowS` seconds of vibration time up to `t` (default: sim time
   * as vibration time) sampled at `rateHz`, in m/s². `speedup` maps vibration time back to sim time.
   */
  accelerationWindow(
    env: Environment,
    simMs: number,
    opts: { windowS?: number; rateHz?: number; t?: number; speedup?: number } = {},
  ): { rms: number; peak: number } {
    const rateHz = opts.rateHz ?? 100;
    const n = Math.round((opts.windowS ?? 10) * rateHz);
    const t = opts.t ?? (simMs - this.opts.startMs) / 1000;
    const speedup = opts.speedup ?? 1;
    let sum = 0;
    let peak = 0;
    for (let i = 0; i < n; i++) {
      const back = i / rateHz;
      const a = this.accelerationG(env, simMs - back * 1000 * speedup, t - back) * G;
      sum += a * a;
      peak = Math.max(peak, Math.abs(a));
    }
    return { rms: Math.sqrt(sum / n), peak };
  }
}
