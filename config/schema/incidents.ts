/**
 * Flood and snow incidents (hub.yaml `incidents:`): the trigger rules that PROPOSE an incident for
 * an operator to confirm, what an open incident does per type and response level (sample
 * intervals at the edges, camera snapshots at hotspots), and the road-closure recommendation at
 * underpasses. Every option has a default, so `incidents:` may be left out.
 */
import { z } from 'zod';
import { duration, idSchema } from './common.js';

export const INCIDENT_TYPES = ['flood', 'snow'] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];

/** Response levels as city flood plans grade them, least severe first (IV 一般 … I 特别重大). */
export const INCIDENT_LEVELS = ['IV', 'III', 'II', 'I'] as const;
export type IncidentLevel = (typeof INCIDENT_LEVELS)[number];

const perLevel = (what: string, defaults: Record<IncidentLevel, string>) =>
  z
    .object({
      IV: duration(`${what} at level IV. Default ${defaults.IV}.`).prefault(defaults.IV),
      III: duration(`${what} at level III. Default ${defaults.III}.`).prefault(defaults.III),
      II: duration(`${what} at level II. Default ${defaults.II}.`).prefault(defaults.II),
      I: duration(`${what} at level I. Default ${defaults.I}.`).prefault(defaults.I),
    })
    .strict()
    .prefault({})
    .describe(`${what}, per response level (durations such as "5s").`);

const condition = z
  .object({
    field: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, 'a snake_case field name')
      .describe('Reading field, e.g. rain_intensity_mmh.'),
    above: z.number().optional().describe('The field is at or above this value.'),
    below: z.number().optional().describe('The field is at or below this value.'),
    in: z.array(z.string()).min(1).optional().describe('The field (a string such as surface_state) is one of these.'),
  })
  .strict()
  .refine((c) => [c.above, c.below, c.in].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of above, below, in',
  });

const trigger = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'a kebab-case trigger id')
      .describe('Trigger id, kebab-case (in the proposal and the metrics).'),
    type: z.enum(INCIDENT_TYPES).describe('Type of the incident proposed.'),
    level: z.enum(INCIDENT_LEVELS).default('IV').describe('Response level proposed. Default IV.'),
    deviceKinds: z.array(z.string().min(1)).min(1).describe('Reading kinds the conditions apply to, e.g. [flood].'),
    when: z.array(condition).min(1).describe('Conditions a reading must meet, all of them, for its device to count.'),
    k: z.number().int().min(1).describe('How many devices must count at once.'),
    window: duration(
      'A device counts while its last reading meeting the conditions is at most this old. Default 15m.',
    ).prefault('15m'),
    scope: z
      .enum(['district', 'city'])
      .default('district')
      .describe('district: k devices in one district propose for that district; city: k anywhere propose city-wide.'),
  })
  .strict();

const response = (defaults: {
  kinds: string[];
  interval: Record<IncidentLevel, string>;
  hotspots: string[];
  snapshots: Record<IncidentLevel, string>;
}) =>
  z
    .object({
      sampleKinds: z
        .array(z.string().min(1))
        .default(defaults.kinds)
        .describe(`Device kinds whose sample interval is shortened in scope. Default [${defaults.kinds.join(', ')}].`),
      sampleInterval: perLevel('Sample interval sent to the edges (cmd/sample-interval)', defaults.interval),
      hotspotAssetKinds: z
        .array(z.string().min(1))
        .default(defaults.hotspots)
        .describe(
          `Asset kinds whose cameras go to their presets and send snapshots. Default [${defaults.hotspots.join(', ')}].`,
        ),
      snapshotEvery: perLevel('Period of the hotspot snapshots', defaults.snapshots),
    })
    .strict()
    .prefault({});

export const incidentsConfigSchema = z
  .object({
    triggers: z
      .array(trigger)
      .prefault([
        {
          id: 'rain-at-gauges',
          type: 'flood',
          level: 'IV',
          deviceKinds: ['flood'],
          when: [{ field: 'rain_intensity_mmh', above: 30 }],
          k: 2,
          window: '15m',
          scope: 'district',
        },
        {
          id: 'wet-freezing-roads',
          type: 'snow',
          level: 'IV',
          deviceKinds: ['road_weather'],
          when: [
            { field: 'surface_temp_c', below: 0 },
            { field: 'surface_state', in: ['wet', 'ice', 'snow'] },
          ],
          k: 2,
          window: '30m',
          scope: 'city',
        },
      ])
      .describe(
        'Trigger rules that propose an incident for an operator to confirm. Default: rain ≥ 30 mm/h at 2 gauges of a district within 15 min (flood, that district); road surface ≤ 0 °C and wet/ice/snow at 2 stations within 30 min (snow, city-wide).',
      ),
    quietAfterDismiss: duration(
      'After a proposal is dismissed, the same trigger proposes nothing for the same scope for this long. Default 1h.',
    ).prefault('1h'),
    flood: response({
      kinds: ['flood'],
      interval: { IV: '30s', III: '15s', II: '10s', I: '5s' },
      hotspots: ['underpass'],
      snapshots: { IV: '10m', III: '5m', II: '2m', I: '1m' },
    }).describe('What an open flood incident does in its scope.'),
    snow: response({
      kinds: ['road_weather'],
      interval: { IV: '2m', III: '1m', II: '30s', I: '15s' },
      hotspots: ['bridge'],
      snapshots: { IV: '15m', III: '10m', II: '5m', I: '2m' },
    }).describe('What an open snow incident does in its scope.'),
    closures: z
      .object({
        field: z
          .string()
          .default('water_level_cm')
          .describe('Reading field of the water depth, cm. Default water_level_cm.'),
        assetKinds: z
          .array(z.string().min(1))
          .default(['underpass'])
          .describe('Asset kinds watched for closure. Default [underpass].'),
        closeAtCm: z
          .number()
          .positive()
          .default(25)
          .describe('Depth at which closure is recommended (shared/domain §7.2: 25 cm). Default 25.'),
        liftBelowCm: z
          .number()
          .min(0)
          .default(20)
          .describe('The recommendation is lifted once the depth stays below this for liftHold. Default 20.'),
        liftHold: duration('How long the depth must stay below liftBelowCm before lifting. Default 10m.').prefault(
          '10m',
        ),
        assets: z
          .record(
            idSchema,
            z
              .object({
                closeAtCm: z.number().positive().optional().describe('Closure depth of this asset.'),
                liftBelowCm: z.number().min(0).optional().describe('Lift depth of this asset.'),
              })
              .strict(),
          )
          .default({})
          .describe('Per-asset overrides, e.g. { UP-XH-001: { closeAtCm: 27, liftBelowCm: 22 } }. Default none.'),
      })
      .strict()
      .refine((c) => c.liftBelowCm < c.closeAtCm, { message: 'liftBelowCm must be below closeAtCm' })
      .prefault({})
      .describe(
        'Road-closure recommendations at underpasses, always watched (whether or not an incident is open): raised when the depth reaches closeAtCm, lifted with hysteresis.',
      ),
    tick: duration('Period of the incident clock (snapshot schedule, trigger windows). Default 5s.').prefault('5s'),
  })
  .strict()
  .prefault({})
  .describe('Flood and snow incidents: trigger rules, what an open incident does, road-closure recommendations.');

export type IncidentsConfig = z.output<typeof incidentsConfigSchema>;
export type TriggerConfig = IncidentsConfig['triggers'][number];
export type ClosureConfig = IncidentsConfig['closures'];
export type ResponseConfig = IncidentsConfig['flood'];
