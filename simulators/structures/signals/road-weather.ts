/**
 * A road surface as a road-weather station sees it. The surface temperature follows the air with
 * a lag, warmed by the sun and cooled by radiation at night (less under rain clouds). Rain leaves a
 * water film that drains and evaporates; below 0 °C the film freezes (faster the colder), and
 * precipitation at an air temperature near 0 °C falls as snow. The state is reported as an
 * NTCIP 1204 essSurfaceStatus code (../shared/domain/7-thresholds.md §7.4).
 */
import type { Environment } from './environment.js';

export interface RoadWeatherOptions {
  startMs: number;
  seed: number;
}

/** NTCIP 1204 essSurfaceStatus codes the station reports. */
export const SURFACE_STATUS = {
  dry: 3,
  traceMoisture: 4,
  wet: 5,
  iceWarning: 7,
  iceWatch: 8,
  snowWarning: 9,
  snowWatch: 10,
} as const;

export interface RoadWeatherValues {
  surface_temp_c: number;
  air_temp_c: number;
  /** essSurfaceStatus code (the register map turns it into dry/wet/ice/snow). */
  surface_state: number;
  /** Water film, ice and snow (water equivalent) on the surface, mm: for tests and the control API. */
  waterMm: number;
  iceMm: number;
  snowMm: number;
}

/** Precipitation falls as snow at or below this air temperature, °C. */
const SNOW_AIR_C = 0.5;

export class RoadWeatherSignals {
  private surfaceC: number | undefined;
  private water = 0;
  private ice = 0;
  private snow = 0;
  private at: number;

  constructor(opts: RoadWeatherOptions) {
    this.at = opts.startMs;
  }

  step(env: Environment, ms: number): void {
    const dtS = (ms - this.at) / 1000;
    if (dtS <= 0) return;
    const h = dtS / 3600;
    const rain = env.rainMmh;
    const clear = rain > 0 ? 0.3 : 1;
    const daylight = env.daylightAt(ms);
    // radiative balance: sun on asphalt by day, loss to a clear sky at night
    const drive = env.airC + 8 * daylight * clear - 2.5 * (1 - daylight) * clear - (this.water > 0.05 ? 0.5 : 0);
    if (this.surfaceC === undefined) this.surfaceC = drive;
    this.surfaceC += (drive - this.surfaceC) * (1 - Math.exp(-dtS / 2700));
    const t = this.surfaceC;
    if (rain > 0) {
      if (env.airC <= SNOW_AIR_C) this.snow += rain * h;
      else this.water += rain * h;
    }
    // a film thicker than 0.5 mm runs off within minutes
    if (this.water > 0.5) this.water -= (this.water - 0.5) * (1 - Math.exp(-dtS / 300));
    if (t > 0) {
      const melt = Math.min(this.ice, 0.3 * t * h) + Math.min(this.snow, 0.5 * t * h);
      this.ice = Math.max(0, this.ice - 0.3 * t * h);
      this.snow = Math.max(0, this.snow - 0.5 * t * h);
      this.water += melt;
      if (rain === 0) this.water = Math.max(0, this.water - (0.05 + 0.02 * t) * h);
    } else {
      const freeze = Math.min(this.water, 0.5 * -t * h + (t < -0.2 ? 0.05 * h : 0));
      this.water -= freeze;
      this.ice += freeze;
      this.ice = Math.max(0, this.ice - 0.005 * h); // sublimation
    }
    this.at = ms;
  }

  surfaceState(): number {
    if (this.snow >= 0.5) return SURFACE_STATUS.snowWarning;
    if (this.snow >= 0.1) return SURFACE_STATUS.snowWatch;
    if (this.ice >= 0.05) return SURFACE_STATUS.iceWarning;
    if (this.ice >= 0.01) return SURFACE_STATUS.iceWatch;
    if (this.water >= 0.2) return SURFACE_STATUS.wet;
    if (this.water >= 0.02) return SURFACE_STATUS.traceMoisture;
    return SURFACE_STATUS.dry;
  }

  values(env: Environment): RoadWeatherValues {
    return {
      surface_temp_c: this.surfaceC ?? env.airC,
      air_temp_c: env.airC,
      surface_state: this.surfaceState(),
      waterMm: this.water,
      iceMm: this.ice,
      snowMm: this.snow,
    };
  }
}
