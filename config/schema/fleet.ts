/**
 * The sanitation fleet in the city config (环卫车载GPS): road segments that are swept, washed or
 * ploughed, and the vehicles with their company, role and daily assignments. The edge's JT/T 808
 * server knows vehicles by terminal number (its gateway config); the hub judges coverage from these.
 */
import { z } from 'zod';
import { idSchema, lonLat } from './common.js';

export const VEHICLE_ROLES = ['sweeper', 'washer', 'garbage', 'plough', 'spreader'] as const;
export type VehicleRole = (typeof VEHICLE_ROLES)[number];

const localTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time "HH:MM"')
  .describe('Local time of day in the city time zone, "HH:MM".');

export const roadSchema = z
  .object({
    id: idSchema.describe('Road segment id, city-wide unique.'),
    name: z.string().optional().describe('Display name (road and stretch).'),
    district: idSchema.describe('District the segment is in.'),
    path: z.array(lonLat).min(2).describe('Centre line of the segment, [lon, lat] points.'),
    priority: z
      .boolean()
      .default(false)
      .describe('A priority road of the snow plan (ploughed and salted first). Default false.'),
  })
  .strict();

export const assignmentSchema = z
  .object({
    roads: z.array(idSchema).min(1).describe('Ids of the road segments the vehicle must cover.'),
    by: localTime.describe('Deadline: the segments must be covered by this local time each day.'),
    from: localTime.optional().describe('Start of the work window, local time. Default 00:00.'),
    minCoverage: z
      .number()
      .gt(0)
      .max(1)
      .default(0.9)
      .describe('Share of each segment’s length that must be driven while working. Default 0.9.'),
  })
  .strict();

export const allowedStopSchema = z
  .object({
    name: z.string().optional().describe('Display name (depot, transfer station, collection point).'),
    at: lonLat.describe('Where it is, [lon, lat].'),
    radiusM: z.number().positive().max(2000).default(50).describe('Radius in metres. Default 50.'),
  })
  .strict();

export const vehicleSchema = z
  .object({
    id: idSchema.describe('Vehicle id: the device id its gateway config gives the terminal.'),
    plate: z.string().min(1).max(16).describe('Number plate, e.g. 浙A·D1234.'),
    unit: idSchema.describe('Id of the unit (the sanitation company) responsible for the vehicle’s work.'),
    role: z.enum(VEHICLE_ROLES).describe('sweeper, washer, garbage, plough or spreader.'),
    district: idSchema.describe('District the vehicle works in.'),
    gateway: idSchema.optional().describe('Gateway whose JT/T 808 server the terminal reports to.'),
    assignments: z.array(assignmentSchema).default([]).describe('Daily road assignments. Default none.'),
    allowedStops: z
      .array(allowedStopSchema)
      .default([])
      .describe('Places the vehicle may dwell (depot, transfer station, collection points). Default none.'),
  })
  .strict();

export type Road = z.output<typeof roadSchema>;
export type Vehicle = z.output<typeof vehicleSchema>;
export type Assignment = z.output<typeof assignmentSchema>;

/** Cross-references the schema cannot see: roads, units and districts a vehicle names. */
export function checkFleet(city: {
  districts: { id: string }[];
  units: { id: string }[];
  roads: Road[];
  vehicles: Vehicle[];
}): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const districts = new Set(city.districts.map((d) => d.id));
  const units = new Set(city.units.map((u) => u.id));
  const roads = new Set<string>();
  city.roads.forEach((r, i) => {
    if (roads.has(r.id)) issues.push({ path: ['roads', i, 'id'], message: `duplicate road id "${r.id}"` });
    roads.add(r.id);
    if (!districts.has(r.district))
      issues.push({ path: ['roads', i, 'district'], message: `unknown district "${r.district}"` });
  });
  const vehicles = new Set<string>();
  city.vehicles.forEach((v, i) => {
    if (vehicles.has(v.id)) issues.push({ path: ['vehicles', i, 'id'], message: `duplicate vehicle id "${v.id}"` });
    vehicles.add(v.id);
    if (!districts.has(v.district))
      issues.push({ path: ['vehicles', i, 'district'], message: `unknown district "${v.district}"` });
    if (!units.has(v.unit))
      issues.push({
        path: ['vehicles', i, 'unit'],
        message: `unknown unit "${v.unit}" (known: ${[...units].join(', ') || '(none)'})`,
      });
    v.assignments.forEach((a, j) => {
      a.roads.forEach((road, k) => {
        if (!roads.has(road))
          issues.push({ path: ['vehicles', i, 'assignments', j, 'roads', k], message: `unknown road "${road}"` });
      });
    });
  });
  return issues;
}
