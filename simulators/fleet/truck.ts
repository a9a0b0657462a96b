/**
 * A sanitation truck driving its plan (route-plan.ts) in sim time: speed per role and leg kind
 * (a smooth random walk inside the band), dwell at stops, odometer, GPS noise of a few metres on
 * the reported position, and whether it is under a tunnel (no signal). Deterministic for a seed;
 * time is passed in as steps, never read here.
 */
import type { VehicleRole } from '../../config/schema/fleet.js';
import { seededRandom } from '../common/random.js';
import { distanceM, type LonLat, Route } from '../gps/route.js';
import type { Leg } from './route-plan.js';

/** km/h while working on a segment, per role. Between segments every role drives 30–50. */
export const WORK_SPEED_KMH: Record<VehicleRole, readonly [number, number]> = {
  sweeper: [5, 12],
  washer: [8, 15],
  garbage: [8, 20],
  plough: [20, 40],
  spreader: [20, 40],
};
export const HOP_SPEED_KMH = [30, 50] as const;

export interface TruckOptions {
  legs: Leg[];
  role: VehicleRole;
  seed: number;
  /** Points under which there is no signal (tunnels), and how far it reaches, metres. */
  tunnels?: readonly LonLat[];
  tunnelRadiusM?: number;
  /** Standard deviation of the GPS noise, metres. Default 3. */
  gpsNoiseM?: number;
}

export interface TruckState {
  /** Reported (noisy) position. */
  lat: number;
  lon: number;
  /** The true position, for tests. */
  trueLat: number;
  trueLon: number;
  speedKmh: number;
  headingDeg: number;
  altitudeM: number;
  mileageKm: number;
  satellites: number;
  working: boolean;
  inTunnel: boolean;
  legIndex: number;
  leg: Leg;
}

const M_PER_DEG_LAT = 111_320;

export class FleetTruck {
  private readonly random: () => number;
  private readonly routes: (Route | undefined)[];
  private legIndex = 0;
  private legDoneM = 0;
  private dwellLeftS: number;
  private speedFactor = 0.5;
  private mileageKm: number;
  private satellites = 14;
  private heading = 0;

  constructor(private readonly opts: TruckOptions) {
    if (opts.legs.length === 0) throw new Error('a truck needs at least one leg');
    this.random = seededRandom(opts.seed);
    this.routes = opts.legs.map((l) => (l.kind === 'stop' ? undefined : new Route(l.path)));
    this.mileageKm = 10_000 + Math.floor(this.random() * 50_000);
    this.dwellLeftS = opts.legs[0]?.dwellS ?? 0;
  }

  private get leg(): Leg {
    return this.opts.legs[this.legIndex] as Leg;
  }

  private nextLeg(): void {
    this.legIndex = (this.legIndex + 1) % this.opts.legs.length;
    this.legDoneM = 0;
    this.dwellLeftS = this.leg.dwellS ?? 0;
  }

  private bandKmh(): readonly [number, number] {
    return this.leg.kind === 'work' ? WORK_SPEED_KMH[this.opts.role] : HOP_SPEED_KMH;
  }

  private gauss(): number {
    // Box–Muller on the seeded generator
    const u = Math.max(this.random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
  }

  /** Advances by `dtS` sim seconds and returns where the truck is. */
  step(dtS: number): TruckState {
    this.speedFactor = Math.min(1, Math.max(0, this.speedFactor + (this.random() - 0.5) * 0.3));
    let left = dtS;
    let speedKmh = 0;
    // a leg may end inside the step: the rest of the time goes to the next legs
    for (let guard = 0; left > 1e-9 && guard < this.opts.legs.length * 2; guard++) {
      const route = this.routes[this.legIndex];
      if (!route) {
        const used = Math.min(left, this.dwellLeftS);
        this.dwellLeftS -= used;
        left -= used;
        speedKmh = 0;
        if (this.dwellLeftS <= 1e-9) this.nextLeg();
        continue;
      }
      const [lo, hi] = this.bandKmh();
      speedKmh = lo + (hi - lo) * this.speedFactor;
      const ms = speedKmh / 3.6;
      const need = route.lengthM - this.legDoneM;
      if (ms * left < need) {
        this.legDoneM += ms * left;
        this.mileageKm += (ms * left) / 1000;
        left = 0;
      } else {
        this.legDoneM = route.lengthM;
        this.mileageKm += need / 1000;
        left -= need / ms;
        this.nextLeg();
      }
    }
    const route = this.routes[this.legIndex];
    const here = route ? route.at(this.legDoneM) : { lon: this.leg.path[0]?.[0] ?? 0, lat: this.leg.path[0]?.[1] ?? 0 };
    if (route) this.heading = route.at(this.legDoneM).courseDeg;
    if (this.random() < 0.05)
      this.satellites = Math.min(18, Math.max(8, this.satellites + (this.random() < 0.5 ? -1 : 1)));
    const noise = this.opts.gpsNoiseM ?? 3;
    const north = this.gauss() * noise;
    const east = this.gauss() * noise;
    const truePos: LonLat = [here.lon, here.lat];
    const radius = this.opts.tunnelRadiusM ?? 150;
    return {
      lat: here.lat + north / M_PER_DEG_LAT,
      lon: here.lon + east / (M_PER_DEG_LAT * Math.cos((here.lat * Math.PI) / 180)),
      trueLat: here.lat,
      trueLon: here.lon,
      speedKmh: route ? speedKmh : 0,
      headingDeg: this.heading,
      altitudeM: 8 + Math.round(this.random() * 4),
      mileageKm: this.mileageKm,
      satellites: this.satellites,
      working: this.leg.kind === 'work',
      inTunnel: (this.opts.tunnels ?? []).some((t) => distanceM(truePos, t) <= radius),
      legIndex: this.legIndex,
      leg: this.leg,
    };
  }
}
