/**
 * The road segments being judged, indexed for "which segments are within r metres of this point"
 * at O(log n) per query: every piece of a centre line (two consecutive vertices) is a box in a
 * Flatbush R-tree, padded by the largest distance asked about; candidates are then measured with
 * @turf (point to piece, position along the piece). Built once per road set; immutable.
 */

import { distance, lineString, nearestPointOnLine } from '@turf/turf';
import Flatbush from 'flatbush';
import type { Feature, LineString } from 'geojson';
import type { Road } from '../../../config/schema/fleet.js';

export type LonLat = readonly [lon: number, lat: number];

/** A segment near a point: how far away, and where along the segment the point projects. */
export interface NearRoad {
  /** Index of the road in `RoadNetwork.roads`. */
  road: number;
  /** Distance from the point to the centre line, metres. */
  distM: number;
  /** Position of the projection along the centre line from its first vertex, metres. */
  alongM: number;
}

interface Piece {
  road: number;
  /** Bounding box of the piece itself, degrees: a cheap test before measuring with @turf. */
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** Metres along the road where the piece starts. */
  offsetM: number;
  lengthM: number;
  line: Feature<LineString>;
}

const M_PER_DEG_LAT = 111_320;

/** Degrees of latitude and longitude spanned by `m` metres at latitude `lat`. */
function degrees(m: number, lat: number): { dLat: number; dLon: number } {
  const dLat = m / M_PER_DEG_LAT;
  return { dLat, dLon: m / (M_PER_DEG_LAT * Math.max(0.01, Math.cos((lat * Math.PI) / 180))) };
}

export class RoadNetwork {
  readonly roads: readonly Road[];
  /** Length of each road's centre line, metres (sum of its pieces). */
  readonly lengthM: readonly number[];
  private readonly byId: Map<string, number>;
  private readonly pieces: Piece[] = [];
  /** Piece indexes of each road. */
  private readonly piecesOf: number[][] = [];
  private readonly index: Flatbush | undefined;

  /** `padM`: the largest radius `near` will be asked for. */
  constructor(roads: readonly Road[], padM: number) {
    this.roads = roads;
    this.byId = new Map(roads.map((r, i) => [r.id, i]));
    const lengths: number[] = [];
    roads.forEach((road, i) => {
      this.piecesOf.push([]);
      let offset = 0;
      for (let k = 1; k < road.path.length; k++) {
        const a = road.path[k - 1] as [number, number];
        const b = road.path[k] as [number, number];
        const len = distance(a, b, { units: 'meters' });
        if (len > 0) {
          (this.piecesOf[i] as number[]).push(this.pieces.length);
          this.pieces.push({
            road: i,
            minX: Math.min(a[0], b[0]),
            minY: Math.min(a[1], b[1]),
            maxX: Math.max(a[0], b[0]),
            maxY: Math.max(a[1], b[1]),
            offsetM: offset,
            lengthM: len,
            line: lineString([a, b]),
          });
        }
        offset += len;
      }
      lengths.push(offset);
    });
    this.lengthM = lengths;
    if (this.pieces.length === 0) return;
    this.index = new Flatbush(this.pieces.length);
    for (const p of this.pieces) {
      const [[x0, y0], [x1, y1]] = p.line.geometry.coordinates as [[number, number], [number, number]];
      const { dLat, dLon } = degrees(padM, Math.max(Math.abs(y0), Math.abs(y1)));
      this.index.add(
        Math.min(x0, x1) - dLon,
        Math.min(y0, y1) - dLat,
        Math.max(x0, x1) + dLon,
        Math.max(y0, y1) + dLat,
      );
    }
    this.index.finish();
  }

  indexOf(roadId: string): number | undefined {
    return this.byId.get(roadId);
  }

  /**
   * Roads whose centre line passes within `radiusM` of the point (at most the padding given at
   * construction), one entry per road: its nearest piece.
   */
  near(p: LonLat, radiusM: number): NearRoad[] {
    if (!this.index) return [];
    const candidates = this.index.search(p[0], p[1], p[0], p[1]);
    if (candidates.length === 0) return [];
    const { dLat, dLon } = degrees(radiusM, p[1]);
    const best = new Map<number, NearRoad>();
    for (const i of candidates) {
      const piece = this.pieces[i] as Piece;
      // The index is padded for the largest radius: skip pieces out of reach of this one unmeasured.
      if (p[0] < piece.minX - dLon || p[0] > piece.maxX + dLon || p[1] < piece.minY - dLat || p[1] > piece.maxY + dLat)
        continue;
      const hit = this.measure(piece, p, radiusM);
      const prev = best.get(piece.road);
      if (hit && (!prev || hit.distM < prev.distM)) best.set(piece.road, hit);
    }
    return [...best.values()];
  }

  /** The nearest point of one road within `radiusM`, or undefined. */
  nearRoad(p: LonLat, road: number, radiusM: number): NearRoad | undefined {
    const { dLat, dLon } = degrees(radiusM, p[1]);
    let best: NearRoad | undefined;
    for (const i of this.piecesOf[road] ?? []) {
      const piece = this.pieces[i] as Piece;
      if (p[0] < piece.minX - dLon || p[0] > piece.maxX + dLon || p[1] < piece.minY - dLat || p[1] > piece.maxY + dLat)
        continue;
      const hit = this.measure(piece, p, radiusM);
      if (hit && (!best || hit.distM < best.distM)) best = hit;
    }
    return best;
  }

  private measure(piece: Piece, p: LonLat, radiusM: number): NearRoad | undefined {
    const snap = nearestPointOnLine(piece.line, [p[0], p[1]], { units: 'meters' }).properties;
    if (snap.pointDistance > radiusM) return undefined;
    const along = piece.offsetM + Math.min(piece.lengthM, Math.max(0, snap.lineDistance));
    return { road: piece.road, distM: snap.pointDistance, alongM: along };
  }

  /** The point `alongM` metres along the road (for a case's location: its middle). */
  pointAlong(road: number, alongM: number): LonLat {
    let last: LonLat = [0, 0];
    for (const p of this.pieces) {
      if (p.road !== road) continue;
      const [a, b] = p.line.geometry.coordinates as [[number, number], [number, number]];
      last = b;
      if (alongM <= p.offsetM + p.lengthM) {
        const t = p.lengthM > 0 ? Math.max(0, alongM - p.offsetM) / p.lengthM : 0;
        // A piece is metres long: linear interpolation of lon/lat is exact to well under a metre.
        return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
      }
    }
    return last;
  }
}
