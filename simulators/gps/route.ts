/** A polyline route of [lon, lat] points and where a vehicle is after driving a distance along it. */

export type LonLat = readonly [number, number];

const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Great-circle distance, metres. */
export function distanceM(a: LonLat, b: LonLat): number {
  const dLat = (b[1] - a[1]) * RAD;
  const dLon = (b[0] - a[0]) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * RAD) * Math.cos(b[1] * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial bearing from a to b, degrees true [0, 360). */
export function bearingDeg(a: LonLat, b: LonLat): number {
  const φ1 = a[1] * RAD;
  const φ2 = b[1] * RAD;
  const dλ = (b[0] - a[0]) * RAD;
  const y = Math.sin(dλ) * Math.cos(φ2);
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(dλ);
  return (((Math.atan2(y, x) / RAD) % 360) + 360) % 360;
}

export interface RoutePosition {
  lon: number;
  lat: number;
  courseDeg: number;
  /** True when the distance is at or past the end of the route. */
  atEnd: boolean;
}

export class Route {
  readonly lengthM: number;
  private readonly cumulative: number[];

  constructor(readonly points: readonly LonLat[]) {
    if (points.length < 2) throw new Error('a route needs at least two points');
    this.cumulative = [0];
    for (let i = 1; i < points.length; i++)
      this.cumulative.push(
        (this.cumulative[i - 1] as number) + distanceM(points[i - 1] as LonLat, points[i] as LonLat),
      );
    this.lengthM = this.cumulative[this.cumulative.length - 1] as number;
  }

  /** Distance from the start to each inner vertex (the corners), metres. */
  cornersM(): number[] {
    return this.cumulative.slice(1, -1);
  }

  /** Position after `d` metres; segments are short enough (city streets) for linear interpolation. */
  at(d: number): RoutePosition {
    const clamped = Math.max(0, Math.min(d, this.lengthM));
    let i = 1;
    while (i < this.points.length - 1 && (this.cumulative[i] as number) < clamped) i++;
    const a = this.points[i - 1] as LonLat;
    const b = this.points[i] as LonLat;
    const segStart = this.cumulative[i - 1] as number;
    const segLen = (this.cumulative[i] as number) - segStart;
    const t = segLen > 0 ? (clamped - segStart) / segLen : 0;
    return {
      lon: a[0] + (b[0] - a[0]) * t,
      lat: a[1] + (b[1] - a[1]) * t,
      courseDeg: bearingDeg(a, b),
      atEnd: d >= this.lengthM,
    };
  }
}

/** Parses "lon,lat;lon,lat;..." */
export function parsePath(text: string): LonLat[] {
  const points = text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const [lon, lat, extra] = p.split(',').map((n) => Number(n.trim()));
      if (
        lon === undefined ||
        lat === undefined ||
        extra !== undefined ||
        !Number.isFinite(lon) ||
        !Number.isFinite(lat)
      )
        throw new Error(`"${p}" is not "lon,lat"`);
      if (Math.abs(lon) > 180 || Math.abs(lat) > 90) throw new Error(`"${p}" is out of range`);
      return [lon, lat] as const;
    });
  if (points.length < 2) throw new Error('a path needs at least two "lon,lat" points separated by ";"');
  return points;
}
