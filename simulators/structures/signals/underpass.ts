/**
 * An underpass (下立交) low point during rain: rain on the catchment becomes runoff that reaches
 * the low point after a lag (a linear reservoir with its own time constant per underpass), the
 * water collects in the basin, and the pump station drains it at its capacity, also after the rain
 * has stopped. The tipping-bucket gauge on site reports intensity and accumulated rain.
 * Values in the Reading field units (drivers/sdk/fields.ts).
 */
import type { Environment } from './environment.js';
import { hashUnit } from './environment.js';

export interface UnderpassOptions {
  startMs: number;
  seed: number;
  /** Catchment draining to the low point, m². Default 15 000..30 000 from the seed. */
  catchmentM2?: number;
  /** Runoff coefficient (paved surfaces). Default 0.85. */
  runoffCoefficient?: number;
  /** Lag of the runoff, minutes (time constant). Default 8..25 from the seed. */
  lagMinutes?: number;
  /** Plan area of the flooded low point, m². Default 400..800 from the seed. */
  basinM2?: number;
  /** Pump capacity, m³/s. Default 0.04..0.08 from the seed. */
  pumpM3s?: number;
}

export interface UnderpassValues {
  water_level_cm: number;
  rain_intensity_mmh: number;
  rain_total_mm: number;
}

const MAX_DEPTH_CM = 300;

export class UnderpassSignals {
  readonly catchmentM2: number;
  readonly lagMinutes: number;
  readonly basinM2: number;
  readonly pumpM3s: number;
  private readonly runoffCoefficient: number;
  /** Runoff stored on the catchment and in the drains, m³. */
  private stored = 0;
  /** Water standing at the low point, m³. */
  private volume = 0;
  private rainTotal = 0;
  private at: number;

  constructor(opts: UnderpassOptions) {
    const r = (n: number) => hashUnit(opts.seed, n);
    this.catchmentM2 = opts.catchmentM2 ?? 15_000 + 15_000 * r(1);
    this.runoffCoefficient = opts.runoffCoefficient ?? 0.85;
    this.lagMinutes = opts.lagMinutes ?? 8 + 17 * r(2);
    this.basinM2 = opts.basinM2 ?? 400 + 400 * r(3);
    this.pumpM3s = opts.pumpM3s ?? 0.04 + 0.04 * r(4);
    this.at = opts.startMs;
  }

  step(env: Environment, ms: number): void {
    const dtS = (ms - this.at) / 1000;
    if (dtS <= 0) return;
    const rain = env.rainMmh;
    this.rainTotal += (rain * dtS) / 3600;
    this.stored += (this.runoffCoefficient * this.catchmentM2 * rain * dtS) / 3_600_000;
    const arriving = this.stored * (1 - Math.exp(-dtS / (this.lagMinutes * 60)));
    this.stored -= arriving;
    this.volume = Math.max(0, this.volume + arriving - this.pumpM3s * dtS);
    this.volume = Math.min(this.volume, (MAX_DEPTH_CM / 100) * this.basinM2);
    this.at = ms;
  }

  values(env: Environment): UnderpassValues {
    return {
      water_level_cm: (this.volume / this.basinM2) * 100,
      rain_intensity_mmh: env.rainMmh,
      rain_total_mm: this.rainTotal,
    };
  }
}
