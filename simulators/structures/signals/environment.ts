/**
 * What every structure in the simulated city feels at once: air temperature (a daily cycle around
 * a mean that scenario hooks can move), rain intensity (set by the flood and snow drills),
 * daylight, and road traffic (a daily curve with morning and evening peaks). Pure: time comes in
 * as an argument (ms since the epoch, sim time), randomness from a seeded source.
 */

export interface EnvironmentOptions {
  /** Sim time the environment starts at, ms since the epoch. */
  startMs: number;
  /** Local time offset for the daily cycles, minutes east of UTC. Default 480 (China Standard Time). */
  utcOffsetMinutes?: number;
  /** Daily mean air temperature at the start, °C. Default 12. */
  meanAirC?: number;
  /** Peak-to-peak daily swing of the air temperature, °C. Default 8 (minimum near 05:00, maximum near 15:00). */
  dailySwingC?: number;
  /** Seed of the traffic jitter. Default 1. */
  seed?: number;
}

/** Deterministic value in [0, 1) for an integer pair: the same (seed, n) always gives the same number. */
export function hashUnit(seed: number, n: number): number {
  let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(n | 0, 0xc2b2ae35);
  h ^= Math.floor(n / 4294967296) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

const circularBump = (hour: number, centre: number, width: number) => {
  const d = Math.min(Math.abs(hour - centre), 24 - Math.abs(hour - centre));
  return Math.exp(-(d * d) / (2 * width * width));
};

export class Environment {
  private readonly utcOffsetMinutes: number;
  private readonly dailySwingC: number;
  private readonly seed: number;
  private meanC: number;
  private trendCPerHour = 0;
  private trendTargetC: number | undefined;
  private rain = 0;
  private at: number;

  constructor(opts: EnvironmentOptions) {
    this.utcOffsetMinutes = opts.utcOffsetMinutes ?? 480;
    this.dailySwingC = opts.dailySwingC ?? 8;
    this.meanC = opts.meanAirC ?? 12;
    this.seed = opts.seed ?? 1;
    this.at = opts.startMs;
  }

  /** Local hour of day (0..24) at `ms`. */
  localHour(ms: number): number {
    return (((ms / 3_600_000 + this.utcOffsetMinutes / 60) % 24) + 24) % 24;
  }

  /** Moves the daily mean along its trend up to `ms` (a clock that goes back is ignored). */
  advance(ms: number): void {
    if (ms <= this.at) return;
    const hours = (ms - this.at) / 3_600_000;
    this.at = ms;
    if (this.trendCPerHour === 0) return;
    let next = this.meanC + this.trendCPerHour * hours;
    const target = this.trendTargetC;
    if (target !== undefined && (this.trendCPerHour < 0 ? next <= target : next >= target)) {
      next = target;
      this.trendCPerHour = 0;
    }
    this.meanC = next;
  }

  /** Air temperature at the current time of the environment, °C. */
  get airC(): number {
    // cosine with its minimum at 05:00 and maximum at 15:00 (shifted half-days: not a pure sine)
    const h = this.localHour(this.at);
    const phase = h >= 5 && h < 15 ? ((h - 5) / 10) * Math.PI : Math.PI + (((h - 15 + 24) % 24) / 14) * Math.PI;
    return this.meanC - (this.dailySwingC / 2) * Math.cos(phase);
  }

  /** Daily mean the cycle swings around now, °C. */
  get meanAirC(): number {
    return this.meanC;
  }

  /** Rain intensity now, mm/h. */
  get rainMmh(): number {
    return this.rain;
  }

  /** Scenario hook: rain at this intensity from now on (0 stops it). */
  setRain(mmh: number): void {
    if (!(mmh >= 0 && mmh <= 500)) throw new RangeError(`rain intensity must be 0..500 mm/h, got ${mmh}`);
    this.rain = mmh;
  }

  /**
   * Scenario hook: the daily mean moves by `cPerHour` from now on, until it reaches `targetC`
   * (when given). 0 holds it where it is.
   */
  setAirTemperatureTrend(cPerHour: number, targetC?: number): void {
    if (!Number.isFinite(cPerHour) || Math.abs(cPerHour) > 20)
      throw new RangeError(`air temperature trend must be within ±20 °C/h, got ${cPerHour}`);
    if (targetC !== undefined && !(targetC >= -50 && targetC <= 50))
      throw new RangeError(`target air temperature must be -50..50 °C, got ${targetC}`);
    this.trendCPerHour = cPerHour;
    this.trendTargetC = targetC;
  }

  get trend(): { cPerHour: number; targetC?: number } {
    return { cPerHour: this.trendCPerHour, targetC: this.trendTargetC };
  }

  /** Sunlight 0..1 at `ms`: 0 at night, 1 at noon; rain clouds halve it. */
  daylightAt(ms: number): number {
    const h = this.localHour(ms);
    const sun = h > 6 && h < 18 ? Math.sin(((h - 6) / 12) * Math.PI) : 0;
    return sun * (this.rain > 0 ? 0.5 : 1);
  }

  /** Road traffic 0..1 at `ms`: quiet at night, peaks near 08:00 and 18:00, ±10 % per-minute jitter. */
  trafficAt(ms: number): number {
    const h = this.localHour(ms);
    const shape = 0.06 + 0.5 * circularBump(h, 13, 4) + 0.55 * circularBump(h, 8, 1.2) + 0.5 * circularBump(h, 18, 1.4);
    const jitter = 0.9 + 0.2 * hashUnit(this.seed, Math.floor(ms / 60_000));
    return Math.min(1, shape * jitter);
  }
}
