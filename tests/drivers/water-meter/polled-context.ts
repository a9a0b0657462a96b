/** A PolledDriverContext that records what a polled driver emits, with a settable clock and a shared store. */
import type { DriverEvent, DriverReading, PolledDriverContext } from '../../../drivers/sdk/driver.js';
import type { DecodeReason } from '../../../drivers/sdk/errors.js';
import { silentLogger } from '../../../drivers/sdk/log.js';

export interface RecordingPolledContext<Options> extends PolledDriverContext<Options> {
  readonly readings: DriverReading[];
  readonly events: DriverEvent[];
  readonly decodeErrors: DecodeReason[];
  now: number;
}

export function polledContext<Options>(
  options: Options,
  stored: Map<string, unknown> = new Map(),
): RecordingPolledContext<Options> {
  const readings: DriverReading[] = [];
  const events: DriverEvent[] = [];
  const decodeErrors: DecodeReason[] = [];
  const ctx: RecordingPolledContext<Options> = {
    device: { id: 'WM-TEST', kind: 'water_meter' },
    options,
    log: silentLogger(),
    clock: { now: () => ctx.now },
    now: Date.UTC(2026, 10, 23, 2, 0, 0),
    store: { get: <T>(key: string) => stored.get(key) as T | undefined, set: (key, value) => stored.set(key, value) },
    readings,
    events,
    decodeErrors,
    emitReading: (r) => readings.push(r),
    emitEvent: (e) => events.push(e),
    emitEvidence: () => {
      throw new Error('a meter has no evidence');
    },
    countDecodeError: (reason) => decodeErrors.push(reason),
  };
  return ctx;
}
