/**
 * A road tunnel as its environment controller sees it: CO and smoke (VI) rise with traffic and
 * fall with ventilation (the vehicles' piston effect plus jet fans that switch on at a CO level
 * and off again lower down), portal luminance follows daylight, entrance lighting follows the
 * portal, and the low-point sump fills with rain running in from the portals while its pump
 * drains it. Values in the Reading field units (drivers/sdk/fields.ts).
 */
import type { Environment } from './environment.js';
import { hashUnit } from './environment.js';

export interface TunnelOptions {
  startMs: number;
  seed: number;
  /** Jet fans switch on at this CO, ppm, and off below half of it. Default 80. */
  fansOnPpm?: number;
}

export interface TunnelValues {
  co_ppm: number;
  visibility_per_m: number;
  wind_ms: number;
  illuminance_lx: number;
  water_level_cm: number;
  temperature_c: number;
  /** Portal luminance L20, cd/m² (served by the controller, not a Reading field). */
  portalLuminance: number;
}

/** Sump water level with the pumps idle, cm relative to the alarm datum. */
const SUMP_EMPTY_CM = -60;
/** The sump pump starts above this level, cm. */
const PUMP_START_CM = -45;

export class TunnelSignals {
  private co = 5;
  private k = 0.001;
  private fans = false;
  private sumpCm = SUMP_EMPTY_CM;
  /** Portal drainage in transit to the sump (a linear reservoir, 10 min), mm of rain. */
  private inTransit = 0;
  private at: number;
  private noise = 0;

  constructor(private readonly opts: TunnelOptions) {
    this.at = opts.startMs;
  }

  private windMs(env: Environment, ms: number): number {
    return 1.2 + 3.5 * env.trafficAt(ms) + (this.fans ? 4 : 0);
  }

  step(env: Environment, ms: number): void {
    const dtS = (ms - this.at) / 1000;
    if (dtS <= 0) return;
    const traffic = env.trafficAt(ms);
    const dilution = 6 / (this.windMs(env, ms) + 1);
    // CO and smoke settle towards what traffic emits and ventilation carries out, within ~5 min
    const settle = 1 - Math.exp(-dtS / 300);
    this.co += (3 + 60 * traffic * dilution - this.co) * settle;
    const spray = 0.0004 * Math.min(1, env.rainMmh / 20);
    this.k += (0.0008 + 0.0052 * traffic * dilution + spray - this.k) * settle;
    const onAt = this.opts.fansOnPpm ?? 80;
    if (!this.fans && this.co >= onAt) this.fans = true;
    else if (this.fans && this.co < onAt / 2) this.fans = false;
    // rain on the portals reaches the sump through the drains: 0.05 cm of level per mm/h per minute
    const hours = dtS / 3600;
    this.inTransit += env.rainMmh * hours;
    const arriving = this.inTransit * (1 - Math.exp(-dtS / 600));
    this.inTransit -= arriving;
    this.sumpCm += arriving * 3;
    if (this.sumpCm > PUMP_START_CM) this.sumpCm = Math.max(PUMP_START_CM, this.sumpCm - 0.8 * (dtS / 60));
    this.sumpCm = Math.min(this.sumpCm, 300);
    this.noise = hashUnit(this.opts.seed + 5, Math.floor(ms / 1000)) - 0.5;
    this.at = ms;
  }

  get fansRunning(): boolean {
    return this.fans;
  }

  values(env: Environment): TunnelValues {
    const ms = this.at;
    const portal = 4000 * env.daylightAt(ms);
    return {
      co_ppm: Math.max(0, this.co + 2 * this.noise),
      visibility_per_m: Math.max(0, this.k + 0.0001 * this.noise),
      wind_ms: this.windMs(env, ms) + 0.3 * this.noise,
      // entrance zone: base lighting plus what the eye needs coming in from the bright portal
      illuminance_lx: 60 + 0.05 * portal,
      water_level_cm: this.sumpCm,
      temperature_c: 0.6 * env.airC + 0.4 * 14 + 2 * env.trafficAt(ms),
      portalLuminance: portal,
    };
  }
}
