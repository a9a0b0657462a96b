/**
 * How the hub judges the fleet's work (hub.yaml `fleet:`): what counts as "working", how close to a
 * road's centre line a truck must drive for it to count as covered, what breaks a track into a
 * gap, and when dwelling, off-route driving and speeding are reported. The roads, vehicles and
 * assignments themselves are in the city config (config/schema/fleet.ts).
 */
import { z } from 'zod';
import { duration } from './common.js';
import { VEHICLE_ROLES, type VehicleRole } from './fleet.js';

const band = (min: number, max: number, what: string) =>
  z
    .object({
      min: z.number().min(0).describe('Lowest working speed, km/h.'),
      max: z.number().positive().describe('Highest working speed, km/h; faster while working is speeding.'),
    })
    .strict()
    .refine((b) => b.max > b.min, 'max must be above min')
    .default({ min, max })
    .describe(`Work-speed band of a ${what}, km/h. Default ${min}–${max}.`);

/** Default work-speed bands per role, km/h (sweepers crawl, ploughs and spreaders run faster). */
export const DEFAULT_WORK_SPEED_KMH: Record<VehicleRole, { min: number; max: number }> = {
  sweeper: { min: 3, max: 20 },
  washer: { min: 3, max: 25 },
  garbage: { min: 1, max: 40 },
  plough: { min: 5, max: 45 },
  spreader: { min: 5, max: 50 },
};

const d = DEFAULT_WORK_SPEED_KMH;

export const fleetJudgingSchema = z
  .object({
    roles: z
      .array(z.enum(VEHICLE_ROLES))
      .default(['sweeper', 'washer', 'garbage'])
      .describe(
        'Vehicle roles whose assignments are judged for coverage every day. Default sweeper, washer, garbage (ploughs and spreaders are judged by incidents on priority roads by their deadline, not every day).',
      ),
    workingField: z
      .string()
      .default('working')
      .describe(
        'Reading field that says the vehicle’s work gear is on (brushes, spray bar, blade, spreader): true or 1. A fix without it is not working. Default working.',
      ),
    workSpeedKmh: z
      .object({
        sweeper: band(d.sweeper.min, d.sweeper.max, 'sweeper'),
        washer: band(d.washer.min, d.washer.max, 'washer'),
        garbage: band(d.garbage.min, d.garbage.max, 'garbage truck'),
        plough: band(d.plough.min, d.plough.max, 'snow plough'),
        spreader: band(d.spreader.min, d.spreader.max, 'salt spreader'),
      })
      .strict()
      .prefault({})
      .describe('A fix counts as working when the working field is on and its speed is inside the role’s band.'),
    corridorM: z
      .number()
      .positive()
      .max(100)
      .default(15)
      .describe(
        'A road counts as driven where the track passes within this many metres of its centre line. Default 15.',
      ),
    maxGap: duration(
      'Two consecutive fixes further apart in time than this are a gap: nothing between them counts as driven (a batch upload that fills the gap restores it). Default 2m.',
    ).prefault('2m'),
    maxGapM: z
      .number()
      .positive()
      .default(500)
      .describe('Two consecutive fixes further apart than this many metres are a gap. Default 500.'),
    grace: duration(
      'How long after an assignment’s deadline coverage is judged, so fixes uploaded late (batch upload after a tunnel or a dead zone) still count. Default 10m.',
    ).prefault('10m'),
    stopSpeedKmh: z
      .number()
      .min(0)
      .default(2)
      .describe('Below this speed a vehicle is stopped (for dwell). Default 2.'),
    maxDwell: duration(
      'A vehicle stopped longer than this away from every allowed stop is reported dwelling. Default 15m.',
    ).prefault('15m'),
    offRouteM: z
      .number()
      .positive()
      .max(2000)
      .default(60)
      .describe('A working vehicle further than this from every road it is assigned today is off route. Default 60.'),
    snowPlan: z
      .object({
        within: duration(
          'Ploughs and spreaders must cover the priority roads of a snow incident’s districts within this long of its opening. Default 4h.',
        ).prefault('4h'),
        minCoverage: z
          .number()
          .gt(0)
          .max(1)
          .default(0.9)
          .describe('Share of each priority road’s length to be covered. Default 0.9.'),
      })
      .strict()
      .prefault({})
      .describe(
        'The snow plan (抗雪防冻): a priority road short of minCoverage at the deadline raises a 道路积雪结冰 (event:0407) case.',
      ),
    tick: duration('How often deadlines are checked and judging state is saved. Default 5s.').prefault('5s'),
  })
  .strict();

export type FleetJudgingConfig = z.output<typeof fleetJudgingSchema>;
