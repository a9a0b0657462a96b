import { z } from 'zod';
import { idSchema } from '../../drivers/sdk/reading.js';

export { idSchema };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses "250ms", "10s", "5m", "2h", "7d" into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

/** A duration written as a string ("500ms", "10s", "5m"), parsed to milliseconds. */
export const duration = (description: string) =>
  z
    .string()
    .regex(DURATION, 'a duration such as "500ms", "10s", "5m", "2h"')
    .transform((s) => parseDuration(s) as number)
    .describe(description);

/** [longitude, latitude] in WGS-84 degrees. */
export const lonLat = z
  .tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)])
  .describe('[longitude, latitude], WGS-84 degrees');

/** A closed ring of [lon, lat] points (first point need not be repeated). */
export const polygon = z.array(lonLat).min(3).describe('Polygon ring of [longitude, latitude] points');

export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info')
  .describe('Log level of the process (pino). Default info.');

/**
 * A secret. Write it as `${ENV_VAR}` so the file holds no secret; the loader substitutes the
 * variable before validation and reports a missing one with its path.
 */
export const secret = (description: string) =>
  z
    .union([z.string().min(1), z.number()])
    .transform(String)
    .describe(description);
