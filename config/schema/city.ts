import { z } from 'zod';
import { workCalendarSchema } from './calendar.js';
import { idSchema, lonLat, polygon } from './common.js';
import { checkFleet, roadSchema, vehicleSchema } from './fleet.js';
import { checkUnits, unitSchema } from './units.js';

export const ASSET_KINDS = [
  'bridge',
  'tunnel',
  'underpass',
  'road',
  'water_main',
  'water_meter',
  'manhole',
  'street_light',
  'vehicle',
  'camera_site',
] as const;

const district = z
  .object({
    id: idSchema.describe('District id, used in MQTT topics and InfluxDB tags (e.g. "xihu").'),
    name: z.string().min(1).describe('Display name (e.g. "西湖区").'),
    adminCode: z
      .string()
      .regex(/^\d{6}$/, '6-digit GB/T 2260 administrative code')
      .describe('County-level administrative code (GB/T 2260), first 6 digits of component object ids.'),
    boundary: polygon.describe('District boundary, [lon, lat] ring.'),
  })
  .strict();

const gridCell = z
  .object({
    id: z
      .string()
      .regex(/^\d{12,15}$/, 'a 12- to 15-digit unit grid code')
      .describe('Unit grid code (CJ/T 213): admin code + street + community + cell.'),
    district: idSchema.describe('Id of the district the cell belongs to.'),
    name: z.string().optional().describe('Display name.'),
    boundary: polygon.describe('Cell boundary, [lon, lat] ring.'),
  })
  .strict();

const asset = z
  .object({
    id: idSchema.describe('Asset id, city-wide unique; an InfluxDB tag.'),
    name: z.string().min(1).describe('Display name.'),
    kind: z.enum(ASSET_KINDS).describe('What the asset is.'),
    classCode: z
      .string()
      .regex(/^\d{4}$/, 'a 4-digit component class code, e.g. "0208"')
      .optional()
      .describe('Component (部件) class code, major + minor, e.g. 0208 跨河桥.'),
    objectId: z
      .string()
      .regex(/^\d{16}$/, 'a 16-digit component object id')
      .optional()
      .describe('Component object id: admin code (6) + class (4) + sequence (6).'),
    district: idSchema.describe('Id of the district the asset is in.'),
    grid: z.string().optional().describe('Grid cell id; derived from the location when omitted.'),
    location: lonLat.optional().describe('Where the asset is, [lon, lat].'),
    owner: z.string().optional().describe('Unit that owns and maintains the asset.'),
    cameras: z
      .array(
        z
          .object({
            device: idSchema.describe('Id of the camera device (as its gateway config names it).'),
            preset: z
              .string()
              .min(1)
              .max(64)
              .optional()
              .describe('PTZ preset the camera goes to before it captures this asset; none: where it points.'),
          })
          .strict(),
      )
      .optional()
      .describe(
        'Cameras that see the asset (联动): a capture request for the asset (when a case opens on it, or POST /api/cameras/<device>/capture) asks each for evidence at its preset. Default none.',
      ),
  })
  .strict();

const route = z
  .object({
    id: idSchema.describe('Route id.'),
    name: z.string().optional().describe('Display name.'),
    district: idSchema.describe('District the route is in.'),
    path: z.array(lonLat).min(2).describe('Polyline of [lon, lat] points the vehicle follows.'),
  })
  .strict();

const gatewayRef = z
  .object({
    id: idSchema.describe('Gateway id, as in its gateway config; MQTT username and topic segment.'),
    district: idSchema.describe('District the gateway serves.'),
    name: z.string().optional().describe('Display name / location.'),
  })
  .strict();

export const cityConfigSchema = z
  .object({
    $schema: z.string().optional().describe('Editor hint, ignored.'),
    city: z
      .object({
        id: idSchema.describe('City id.'),
        name: z.string().describe('Display name.'),
        timezone: z.string().default('Asia/Shanghai').describe('IANA time zone of the city. Default Asia/Shanghai.'),
      })
      .strict()
      .describe('The city: id, display name, time zone.'),
    districts: z.array(district).min(1).describe('Districts of the city.'),
    gridCells: z.array(gridCell).default([]).describe('Unit grid cells.'),
    assets: z.array(asset).default([]).describe('Managed objects (components) that devices are mounted on.'),
    routes: z.array(route).default([]).describe('Vehicle routes (sanitation, snow clearing).'),
    roads: z
      .array(roadSchema)
      .default([])
      .describe('Road segments the fleet covers (sweeping, washing, snow clearing). Default none.'),
    vehicles: z
      .array(vehicleSchema)
      .default([])
      .describe('Fleet vehicles with JT/T 808 terminals: company, role, assignments. Default none.'),
    gateways: z.array(gatewayRef).default([]).describe('Edge gateways of the city and the district each serves.'),
    units: z.array(unitSchema).default([]).describe('Responsible units cases are dispatched to. Default none.'),
    workCalendar: workCalendarSchema.prefault({}).describe('Working calendar of work-time case deadlines.'),
    catalogue: z
      .string()
      .optional()
      .describe(
        'Path of the case catalogue (relative to this file). Default: the shipped config/examples/catalogue.yaml.',
      ),
    rules: z
      .string()
      .optional()
      .describe('Path of the case rules (relative to this file). Default: the shipped config/examples/rules.yaml.'),
  })
  .strict()
  .superRefine((city, ctx) => {
    const districts = new Set(city.districts.map((d) => d.id));
    const cells = new Set(city.gridCells.map((c) => c.id));
    const unique = (items: { id: string }[], key: string) => {
      const seen = new Set<string>();
      items.forEach((it, i) => {
        if (seen.has(it.id)) ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${it.id}"` });
        seen.add(it.id);
      });
    };
    unique(city.districts, 'districts');
    unique(city.gridCells, 'gridCells');
    unique(city.assets, 'assets');
    unique(city.gateways, 'gateways');
    const needDistrict = (key: string, items: { district: string }[]) =>
      items.forEach((it, i) => {
        if (!districts.has(it.district)) {
          ctx.addIssue({
            code: 'custom',
            path: [key, i, 'district'],
            message: `unknown district "${it.district}" (known: ${[...districts].join(', ')})`,
          });
        }
      });
    needDistrict('gridCells', city.gridCells);
    needDistrict('assets', city.assets);
    needDistrict('routes', city.routes);
    needDistrict('gateways', city.gateways);
    for (const u of checkUnits(city)) ctx.addIssue({ code: 'custom', path: u.path, message: u.message });
    for (const f of checkFleet(city)) ctx.addIssue({ code: 'custom', path: f.path, message: f.message });
    city.assets.forEach((a, i) => {
      if (a.grid !== undefined && !cells.has(a.grid)) {
        ctx.addIssue({ code: 'custom', path: ['assets', i, 'grid'], message: `unknown grid cell "${a.grid}"` });
      }
    });
  });

export type CityConfig = z.output<typeof cityConfigSchema>;
export type District = CityConfig['districts'][number];
export type GridCell = CityConfig['gridCells'][number];
export type Asset = CityConfig['assets'][number];
export type Route = CityConfig['routes'][number];
export type { Assignment, Road, Vehicle, VehicleRole } from './fleet.js';
