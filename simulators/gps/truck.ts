/**
 * A sanitation truck driving a route: plausible speed (varies smoothly around the set speed,
 * slows near corners), heading along the street, a receiver with 10–18 satellites.
 * Deterministic for a given seed; time is passed in, never read here.
 */

import { seededRandom } from '../common/random.js';
import type { SimFix } from './nmea-encoder.js';
import { type LonLat, Route } from './route.js';

export interface TruckOptions {
  route: readonly LonLat[];
  /** Mean speed, km/h. Default 22. */
  speedKmh?: number;
  /** At the end of the route, drive it back (and so on) instead of parking. Default false. */
  loop?: boolean;
  /** PRNG seed. Default 1. */
  seed?: number;
}

const CORNER_SLOWDOWN_M = 25;

export class Truck {
  readonly random: () => number;
  private readonly forward: Route;
  private readonly backward: Route;
  private reversed = false;
  private travelledM = 0;
  private speedFactor = 1;
  private readonly meanSpeedKmh: number;
  private readonly loop: boolean;
  private satellites = 14;

  constructor(opts: TruckOptions) {
    this.forward = new Route(opts.route);
    this.backward = new Route([...opts.route].reverse());
    this.meanSpeedKmh = opts.speedKmh ?? 22;
    this.loop = opts.loop ?? false;
    this.random = seededRandom(opts.seed ?? 1);
  }

  private get route(): Route {
    return this.reversed ? this.backward : this.forward;
  }

  private nearCorner(): boolean {
    return this.route.cornersM().some((c) => Math.abs(c - this.travelledM) < CORNER_SLOWDOWN_M);
  }

  /** Advances by `dtS` seconds and returns the receiver's fix at `time` (UTC ms). */
  step(dtS: number, time: number): SimFix {
    // a smooth random walk of the speed factor in [0.7, 1.3]
    this.speedFactor = Math.min(1.3, Math.max(0.7, this.speedFactor + (this.random() - 0.5) * 0.1));
    const parked = !this.loop && this.travelledM >= this.route.lengthM;
    const speedKmh = parked ? 0 : this.meanSpeedKmh * this.speedFactor * (this.nearCorner() ? 0.5 : 1);
    this.travelledM += (speedKmh / 3.6) * dtS;
    if (this.travelledM >= this.route.lengthM) {
      if (this.loop) {
        this.travelledM -= this.route.lengthM;
        this.reversed = !this.reversed;
      } else this.travelledM = this.route.lengthM;
    }
    const pos = this.route.at(this.travelledM);
    if (this.random() < 0.05)
      this.satellites = Math.min(18, Math.max(10, this.satellites + (this.random() < 0.5 ? -1 : 1)));
    return {
      time,
      lat: pos.lat,
      lon: pos.lon,
      speedKmh,
      courseDeg: pos.courseDeg,
      altitudeM: 8 + this.random() * 2,
      geoidSeparationM: 7.2,
      satellites: this.satellites,
      hdop: 0.6 + this.random() * 0.4,
      valid: true,
    };
  }
}

export { seededRandom };
