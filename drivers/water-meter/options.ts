/** Options every water-meter driver takes (the protocol-specific ones are in each driver), and their run-time poll interval. */
import { z } from 'zod';
import type { BusDevice } from '../sdk/bus-device.js';
import type { PolledDevice } from '../sdk/driver.js';
import type { Logger } from '../sdk/log.js';
import { durationOption } from '../sdk/options.js';
import { requestedSampleInterval } from '../sdk/sample-interval.js';

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

/** The per-meter response timeout override in the shape BusDevice takes. */
export function timeoutOverride(o: MeterCommonOptions): { responseTimeoutMs?: number } {
  return o.responseTimeout !== undefined ? { responseTimeoutMs: o.responseTimeout } : {};
}

/** Meters are slow battery devices: never asked more often than this, whatever a command says. */
const MIN_METER_INTERVAL_MS = 1000;

/**
 * The meter as a PolledDevice whose poll interval `cmd/sample-interval` changes at run time: the
 * option's interval (or the bus's when none) until a command sets one; "default" goes back. The
 * poller reads `pollIntervalMs` at every schedule and is asked to poll soon when it shrinks.
 */
export function withSampleInterval(device: BusDevice<unknown>, o: MeterCommonOptions, log: Logger): PolledDevice {
  let interval: number | undefined = o.pollInterval;
  let pollSoon: (() => void) | undefined;
  const adjustable: PolledDevice = Object.create(device, {
    pollIntervalMs: { get: () => interval, enumerable: true },
    bindPollSoon: {
      value: (fn: () => void) => {
        pollSoon = fn;
      },
    },
    command: {
      value: async (cmd: Parameters<NonNullable<PolledDevice['command']>>[0]) => {
        const asked = requestedSampleInterval(cmd, MIN_METER_INTERVAL_MS);
        const previous = interval;
        interval = asked === 'default' ? o.pollInterval : asked;
        log.info({ interval: interval ?? 'bus default', previous, commandId: cmd.id }, 'Poll interval changed');
        if (interval !== undefined && (previous === undefined || interval < previous)) pollSoon?.();
        return { interval: interval ?? null, previous: previous ?? null, default: o.pollInterval ?? null };
      },
    },
  });
  return adjustable;
}
