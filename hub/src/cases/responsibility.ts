/**
 * Who a case goes to (shared/domain §6.6). Components: 先属主后属地 — the asset's owner, then the
 * territorial unit. Events: a unit whose statutory remit lists the category (the water company for
 * 自来水管破裂) first, then 先属地后属主 — the territorial unit, then the asset's owner. The territorial
 * unit is the one of the grid cell, else of the district (属地兜底). Grid cell and district come from
 * the asset, or from the point by point-in-polygon. Pure over the city config.
 */

import type { CategoryKey } from '../../../config/schema/catalogue.js';
import type { CityConfig } from '../../../config/schema/city.js';
import type { UnitConfig } from '../../../config/schema/units.js';
import { gridCellAt, type LonLat, pointInPolygon } from '../geo.js';

export interface Locality {
  district?: string;
  grid?: string;
}

/** What a case is about: an asset, a grid cell (a signal of a whole cell), and/or a point. */
export interface Where {
  asset?: string;
  grid?: string;
  point?: LonLat;
}

export interface Assignment extends Locality {
  /** Unit id; undefined when nobody is responsible (the centre must assign one by hand). */
  unit?: string;
  /** Which rule picked the unit. */
  via: 'remit' | 'owner' | 'grid' | 'district' | 'none';
}

export interface Responsibility {
  /** District and grid cell of an asset (its own, else where it stands) or of a point. */
  locate(where: Where): Locality;
  /** The responsible unit of a case in the category about the asset and/or at the point. */
  assign(category: CategoryKey, where: Where): Assignment;
  /** The unit record by id. */
  unit(id: string): UnitConfig | undefined;
}

type CityPart = Pick<CityConfig, 'districts' | 'gridCells' | 'assets' | 'units'>;

export function createResponsibility(city: CityPart): Responsibility {
  const assets = new Map(city.assets.map((a) => [a.id, a]));
  const cells = new Map(city.gridCells.map((c) => [c.id, c]));
  const units = new Map(city.units.map((u) => [u.id, u]));
  const byName = new Map<string, UnitConfig>();
  for (const u of city.units) {
    byName.set(u.name, u);
    byName.set(u.id, u);
  }
  const first = (pred: (u: UnitConfig) => boolean) => city.units.find(pred)?.id;

  const districtAt = (point: LonLat) => city.districts.find((d) => pointInPolygon(point, d.boundary))?.id;

  const locate = (where: Where): Locality => {
    const asset = where.asset ? assets.get(where.asset) : undefined;
    const point = asset?.location ?? where.point;
    const grid = asset?.grid ?? where.grid ?? (point ? gridCellAt(city.gridCells, point) : undefined);
    const district =
      asset?.district ?? (grid ? cells.get(grid)?.district : undefined) ?? (point ? districtAt(point) : undefined);
    return { ...(district ? { district } : {}), ...(grid ? { grid } : {}) };
  };

  const ownerOf = (assetId: string | undefined): string | undefined => {
    if (!assetId) return undefined;
    const asset = assets.get(assetId);
    return (
      first((u) => u.owns.assets.includes(assetId)) ??
      (asset?.owner ? byName.get(asset.owner)?.id : undefined) ??
      (asset ? first((u) => u.owns.assetKinds.includes(asset.kind)) : undefined)
    );
  };

  return {
    locate,
    unit: (id) => units.get(id),
    assign(category, where) {
      const loc = locate(where);
      const remit = first((u) => u.owns.classes.includes(category));
      const gridUnit = loc.grid ? first((u) => u.territory.gridCells.includes(loc.grid as string)) : undefined;
      const districtUnit = loc.district
        ? first((u) => u.territory.districts.includes(loc.district as string))
        : undefined;
      const owner = ownerOf(where.asset);
      const order: [Assignment['via'], string | undefined][] = category.startsWith('component:')
        ? [
            ['owner', owner],
            ['remit', remit],
            ['grid', gridUnit],
            ['district', districtUnit],
          ]
        : [
            ['remit', remit],
            ['grid', gridUnit],
            ['district', districtUnit],
            ['owner', owner],
          ];
      for (const [via, unit] of order) if (unit) return { ...loc, unit, via };
      return { ...loc, via: 'none' };
    },
  };
}
