/**
 * A household's water use over the day and the meter's counters that integrate it. Time comes
 * from an injected clock (ms since the epoch), so tests can run a day in a moment.
 */

/** Relative demand by local hour: low at night, peaks around 07:30 and 19:30, a midday shoulder. */
export function demandShape(localHour: number): number {
  const bump = (centre: number, width: number, height: number) => {
    // distance on the 24 h circle, so 23:30 and 00:30 are neighbours
    const d = Math.min(Math.abs(localHour - centre), 24 - Math.abs(localHour - centre));
    return height * Math.exp(-(d * d) / (2 * width * width));
  };
  return 0.03 + bump(7.5, 1.0, 1.0) + bump(12.5, 1.5, 0.35) + bump(19.5, 1.5, 0.85);
}

const SHAPE_DAILY_INTEGRAL = (() => {
  let sum = 0;
  const steps = 24 * 60;
  for (let i = 0; i < steps; i++) sum += demandShape((i + 0.5) / 60) / 60;
  return sum;
})();

export interface MeterFlowOptions {
  /** Mean household use, m³ per day. Default 0.5. */
  dailyM3?: number;
  /** Starting forward counter, m³. */
  initialM3?: number;
  /** Constant extra flow (a leak), m³/h; shows as flow that never stops at night. 0 = none. */
  leakM3h?: number;
  /** Water runs backwards through the meter: the reverse counter grows, the net reading falls. */
  reverse?: boolean;
  /** Local time offset for the daily shape, minutes. Default 480 (China Standard Time). */
  utcOffsetMinutes?: number;
  /** Random source in [0, 1) for the minute-to-minute jitter of demand. */
  random?: () => number;
  /** Clock time the counters start at, ms. */
  startMs: number;
}

/** Integration step: demand is held for at most a minute. */
const STEP_MS = 60_000;

export class MeterFlow {
  private forward: number;
  private reverseTotal = 0;
  private at: number;
  private rate = 0;
  private readonly perShapeUnit: number;
  private readonly random: () => number;

  constructor(private readonly opts: MeterFlowOptions) {
    this.forward = opts.initialM3 ?? 0;
    this.at = opts.startMs;
    this.perShapeUnit = (opts.dailyM3 ?? 0.5) / SHAPE_DAILY_INTEGRAL;
    this.random = opts.random ?? (() => 0.5);
    this.rate = this.rateAt(opts.startMs);
  }

  /** Instantaneous flow at `ms`, m³/h, before the direction is applied (always ≥ 0). */
  rateAt(ms: number): number {
    const localHour = (((ms / 3_600_000 + (this.opts.utcOffsetMinutes ?? 480) / 60) % 24) + 24) % 24;
    const jitter = 0.7 + 0.6 * this.random();
    return this.perShapeUnit * demandShape(localHour) * jitter + (this.opts.leakM3h ?? 0);
  }

  /** Integrates up to `ms` (a clock that goes back is ignored). */
  advance(ms: number): void {
    while (this.at < ms) {
      const next = Math.min(ms, this.at + STEP_MS);
      this.rate = this.rateAt((this.at + next) / 2);
      const volume = (this.rate * (next - this.at)) / 3_600_000;
      if (this.opts.reverse) this.reverseTotal += volume;
      else this.forward += volume;
      this.at = next;
    }
  }

  /** Forward cumulative volume, m³. */
  get forwardM3(): number {
    return this.forward;
  }

  get reverseM3(): number {
    return this.reverseTotal;
  }

  /** What a single-register meter shows: forward minus reverse (CJ/T 188 has no reverse counter). */
  get netM3(): number {
    return this.forward - this.reverseTotal;
  }

  /** Signed flow of the last step, m³/h: negative while water runs backwards. */
  get flowM3h(): number {
    return this.opts.reverse ? -this.rate : this.rate;
  }
}
