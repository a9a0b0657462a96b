/** Options every water-meter driver takes (the protocol-specific ones are in each driver). */
import { z } from 'zod';
import { durationOption } from '../sdk/options.js';

export const meterCommonOptions = {
  pollInterval: durationOption()
    .optional()
    .describe('Read this meter at this interval instead of the bus `pollInterval`, e.g. "15m".'),
  responseTimeout: durationOption()
    .optional()
    .describe('Wait this long for this meter instead of the bus `responseTimeout` (slow battery meters).'),
  maxFlow: z
    .number()
    .positive()
    .default(25)
    .describe(
      'Most the meter can pass, m³/h (its overload flow Q4). A counter change beyond it between two reads is a meter replacement, not consumption. Default 25.',
    ),
} as const;

/** The common options after parsing. */
export interface MeterCommonOptions {
  pollInterval?: number | undefined;
  responseTimeout?: number | undefined;
  maxFlow: number;
}

/** Poll overrides in the shape BusDevice takes. */
export function pollOverrides(o: MeterCommonOptions): { pollIntervalMs?: number; responseTimeoutMs?: number } {
  return {
    ...(o.pollInterval !== undefined ? { pollIntervalMs: o.pollInterval } : {}),
    ...(o.responseTimeout !== undefined ? { responseTimeoutMs: o.responseTimeout } : {}),
  };
}
