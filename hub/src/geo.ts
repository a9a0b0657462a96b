/**
 * Grid-cell lookup (CJ/T 213 unit grids) for readings: by the asset's configured cell, else by
 * the asset's location, else — for moving devices with no asset cell — by the reading's own
 * position. Pure functions over the city config.
 */
import type { CityConfig } from '../../config/schema/city.js';
import type { Reading } from '../../drivers/sdk/reading.js';

export type LonLat = readonly [number, number];

/** Ray casting; a point exactly on an edge may land on either side, which is fine for grid cells. */
export function pointInPolygon(point: LonLat, ring: readonly LonLat[]): boolean {
  const [x, y] = point;
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i] as LonLat;
    const b = ring[j] as LonLat;
    if (a[1] > y !== b[1] > y && x < ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/** The first grid cell containing the point, or undefined. */
export function gridCellAt(cells: CityConfig['gridCells'], point: LonLat): string | undefined {
  return cells.find((c) => pointInPolygon(point, c.boundary))?.id;
}

/** A reading's own position, from the `lon`/`lat` fields of the FIELDS table. */
export function readingPosition(reading: Reading): LonLat | undefined {
  const { lon, lat } = reading.fields;
  return typeof lon === 'number' && typeof lat === 'number' ? [lon, lat] : undefined;
}

/** Grid of each asset: its configured cell, else the cell its location falls in. */
export function assetGrids(city: Pick<CityConfig, 'assets' | 'gridCells'>): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of city.assets) {
    const grid = a.grid ?? (a.location ? gridCellAt(city.gridCells, a.location) : undefined);
    if (grid) out.set(a.id, grid);
  }
  return out;
}

/**
 * Builds `resolveGrid(reading, asset?)`: the asset's cell when it has one, else the reading's
 * position (a truck: asset without location). `asset` is the reading's own or the one the
 * gateway's birth inventory names for the device.
 */
export function gridResolver(
  city: Pick<CityConfig, 'assets' | 'gridCells'>,
): (reading: Reading | undefined, asset?: string) => string | undefined {
  const byAsset = assetGrids(city);
  return (reading, asset) => {
    const fixed = asset ? byAsset.get(asset) : undefined;
    if (fixed) return fixed;
    const position = reading ? readingPosition(reading) : undefined;
    return position ? gridCellAt(city.gridCells, position) : undefined;
  };
}
