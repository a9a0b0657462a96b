/**
 * Responsible units (责任单位): departments, district offices and maintenance companies, with what
 * they own (assets, asset kinds, class codes) and where they are the territorial unit (属地: districts
 * and grid cells). Lives in the city config as `units`; an asset's `owner` names a unit by id or name.
 */
import { z } from 'zod';
import { idSchema } from './common.js';

export const UNIT_TYPES = ['department', 'district_office', 'street_office', 'company'] as const;

export const unitSchema = z
  .object({
    id: idSchema.describe('Unit id, city-wide unique.'),
    name: z.string().min(1).describe('Display name; an asset `owner` may name the unit by it (e.g. 市城管局桥隧中心).'),
    type: z.enum(UNIT_TYPES).describe('department, district_office, street_office or company.'),
    owns: z
      .object({
        assets: z.array(idSchema).default([]).describe('Asset ids the unit owns or maintains (权属). Default none.'),
        assetKinds: z
          .array(z.string())
          .default([])
          .describe('Asset kinds it owns city-wide, e.g. bridge. Default none.'),
        classes: z
          .array(z.string().regex(/^(component|event):\d{4}$/, 'a category such as "event:0402"'))
          .default([])
          .describe('Categories in its statutory remit (e.g. event:0402 for the water company). Default none.'),
      })
      .strict()
      .prefault({})
      .describe('What the unit owns; owner resolution looks here and at the assets’ `owner`.'),
    territory: z
      .object({
        districts: z.array(idSchema).default([]).describe('Districts it is the territorial unit of. Default none.'),
        gridCells: z.array(z.string()).default([]).describe('Grid cells it is the territorial unit of. Default none.'),
      })
      .strict()
      .prefault({})
      .describe('Where it is the territorial unit (属地); a grid cell wins over a district.'),
  })
  .strict();

export type UnitConfig = z.output<typeof unitSchema>;

/** One cross-reference problem between units and the rest of the city config. */
export interface UnitIssue {
  path: (string | number)[];
  message: string;
}

/** Checks unit references against the city: unique ids, known districts/cells/assets, owners that name a unit. */
export function checkUnits(city: {
  units: UnitConfig[];
  districts: { id: string }[];
  gridCells: { id: string }[];
  assets: { id: string; owner?: string | undefined }[];
}): UnitIssue[] {
  const issues: UnitIssue[] = [];
  if (city.units.length === 0) return issues;
  const districts = new Set(city.districts.map((d) => d.id));
  const cells = new Set(city.gridCells.map((c) => c.id));
  const assets = new Set(city.assets.map((a) => a.id));
  const names = new Set<string>();
  city.units.forEach((u, i) => {
    if (names.has(u.id)) issues.push({ path: ['units', i, 'id'], message: `duplicate unit "${u.id}"` });
    names.add(u.id);
    names.add(u.name);
    u.territory.districts.forEach((d, j) => {
      if (!districts.has(d))
        issues.push({ path: ['units', i, 'territory', 'districts', j], message: `unknown district "${d}"` });
    });
    u.territory.gridCells.forEach((c, j) => {
      if (!cells.has(c))
        issues.push({ path: ['units', i, 'territory', 'gridCells', j], message: `unknown grid cell "${c}"` });
    });
    u.owns.assets.forEach((a, j) => {
      if (!assets.has(a)) issues.push({ path: ['units', i, 'owns', 'assets', j], message: `unknown asset "${a}"` });
    });
  });
  city.assets.forEach((a, i) => {
    if (a.owner !== undefined && !names.has(a.owner)) {
      issues.push({ path: ['assets', i, 'owner'], message: `owner "${a.owner}" is not a unit id or name in units` });
    }
  });
  return issues;
}
