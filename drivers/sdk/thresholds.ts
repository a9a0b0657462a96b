/**
 * Edge-local alarm limits: a device (or its model) carries high/low limits per field, and the
 * edge checks every reading itself, so an alarm Event is raised at once even while the uplink is
 * down (it goes into the outbox like everything else). Pure: state in, events out.
 *
 * A limit raises `threshold.high` (value ≥ high) or `threshold.low` (value ≤ low) once, and
 * `threshold.clear` once the value is back past the limit by its hysteresis (high: value <
 * high − hysteresis; low: value > low + hysteresis). Facts: ../shared/domain/7-thresholds.md.
 */
import { z } from 'zod';
import { SEVERITIES, type Severity } from './reading.js';

export const limitSchema = z
  .strictObject({
    high: z.number().optional().describe('Raise when the value is at or above this (exactly one of high/low)'),
    low: z.number().optional().describe('Raise when the value is at or below this (exactly one of high/low)'),
    hysteresis: z
      .number()
      .min(0)
      .default(0)
      .describe('Clear only once the value is back past the limit by this much (default 0)'),
    severity: z.enum(SEVERITIES).default('warning').describe('Event severity (default warning)'),
    level: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/)
      .optional()
      .describe('Name of this alarm level (yellow, red, closure); goes into the event data'),
  })
  .refine((l) => (l.high === undefined) !== (l.low === undefined), { message: 'give exactly one of high or low' })
  .describe('An edge-local alarm limit on one field, checked on every reading');
export type Limit = z.output<typeof limitSchema>;

/** Limits per field. */
export type Limits = Readonly<Partial<Record<string, readonly Limit[]>>>;

/** Keys of the limits that are raised now: `<field>:<index>`. Keep it (ctx.store) across restarts. */
export type ThresholdState = readonly string[];

export interface ThresholdEvent {
  type: 'threshold.high' | 'threshold.low' | 'threshold.clear';
  severity: Severity;
  data: {
    field: string;
    value: number;
    limit: number;
    direction: 'high' | 'low';
    hysteresis: number;
    level?: string;
  };
}

/**
 * Checks one reading's numeric fields against the limits. Fields in `skip` (values the reading
 * marks bad: out of range, channel fault) neither raise nor clear: a broken sensor is not an alarm.
 */
export function evaluateThresholds(
  limits: Limits,
  fields: Readonly<Record<string, unknown>>,
  state: ThresholdState,
  skip: ReadonlySet<string> = new Set(),
): { events: ThresholdEvent[]; state: ThresholdState } {
  const active = new Set(state);
  const events: ThresholdEvent[] = [];
  for (const [field, list] of Object.entries(limits)) {
    const value = fields[field];
    if (!list || typeof value !== 'number' || !Number.isFinite(value) || skip.has(field)) continue;
    list.forEach((l, i) => {
      const key = `${field}:${i}`;
      const direction = l.high !== undefined ? 'high' : 'low';
      const limit = (l.high ?? l.low) as number;
      const data = {
        field,
        value,
        limit,
        direction,
        hysteresis: l.hysteresis,
        ...(l.level ? { level: l.level } : {}),
      } as const;
      const beyond = direction === 'high' ? value >= limit : value <= limit;
      const back = direction === 'high' ? value < limit - l.hysteresis : value > limit + l.hysteresis;
      if (!active.has(key) && beyond) {
        active.add(key);
        events.push({ type: `threshold.${direction}`, severity: l.severity, data });
      } else if (active.has(key) && back) {
        active.delete(key);
        events.push({ type: 'threshold.clear', severity: 'info', data });
      }
    });
  }
  return { events, state: [...active].sort() };
}
