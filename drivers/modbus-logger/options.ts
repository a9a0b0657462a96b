/**
 * Options every Modbus logger driver takes (RTU on a bus, or TCP): which register map (a shipped
 * model by name, or a map inline: a new logger model is a config entry, not a code change), the
 * sample interval, and per-field limit overrides.
 */
import { z } from 'zod';
import { type RegisterMap, registerMapSchema } from '../modbus/register-map.js';
import { FIELDS, type FieldName } from '../sdk/fields.js';
import { durationOption } from '../sdk/options.js';
import { type Limits, limitSchema } from '../sdk/thresholds.js';
import { LOGGER_MODELS } from './models/index.js';

const MODEL_IDS = Object.keys(LOGGER_MODELS) as [string, ...string[]];
const FIELD_NAMES = Object.keys(FIELDS) as [FieldName, ...FieldName[]];

export const DEFAULT_INTERVAL_MS = 10_000;

export const loggerCommonOptions = {
  model: z
    .enum(MODEL_IDS)
    .optional()
    .describe(`Shipped register map: ${MODEL_IDS.join(', ')}. Give this or "map".`),
  map: registerMapSchema
    .optional()
    .describe(
      'An inline register map (same shape as a shipped model) for a logger citygrid does not ship. Give this or "model".',
    ),
  interval: durationOption()
    .default(DEFAULT_INTERVAL_MS)
    .describe(
      'Sample interval of the register points, e.g. "10s" (default 10s). cmd/sample-interval changes it at run time.',
    ),
  limits: z
    .partialRecord(z.enum(FIELD_NAMES), z.array(limitSchema))
    .optional()
    .describe(
      "Edge-local limits per field; replaces the map's limits for the fields given ([] turns a field's limits off).",
    ),
  waveform: z
    .boolean()
    .default(true)
    .describe('Read the acceleration sample buffer when the map has one (default true).'),
} as const;

/** Refinement shared by both drivers' option schemas. */
export function exactlyOneMap(o: { model?: string | undefined; map?: unknown }): boolean {
  return (o.model === undefined) !== (o.map === undefined);
}
export const EXACTLY_ONE_MAP = { message: 'give exactly one of "model" (a shipped map) or "map" (an inline one)' };

export interface LoggerCommonOptions {
  model?: string | undefined;
  map?: RegisterMap | undefined;
  interval: number;
  limits?: Partial<Record<FieldName, z.output<typeof limitSchema>[]>> | undefined;
  waveform: boolean;
}

/** The map and the limits in force for a device. */
export function resolveLoggerMap(o: LoggerCommonOptions): { map: RegisterMap; limits: Limits } {
  const map = o.map ?? registerMapSchema.parse(LOGGER_MODELS[o.model as string]);
  const withWaveform = o.waveform ? map : { ...map, waveform: undefined };
  return { map: withWaveform, limits: { ...map.limits, ...(o.limits ?? {}) } };
}
