/** A DriverContext that records what a driver emits, for driver unit tests. */
import type { Clock } from '../../drivers/sdk/clock.js';
import type { ByteTransport, DriverContext, DriverEvent, DriverReading } from '../../drivers/sdk/driver.js';
import type { DecodeReason } from '../../drivers/sdk/errors.js';
import { silentLogger } from '../../drivers/sdk/log.js';

export interface RecordingContext<Options> extends DriverContext<Options> {
  readonly readings: DriverReading[];
  readonly events: DriverEvent[];
  readonly availability: { online: boolean; reason?: string }[];
  readonly decodeErrors: DecodeReason[];
  readonly discardedBytes: number;
}

export function recordingContext<Options>(opts: {
  options: Options;
  transport: ByteTransport;
  clock?: Clock;
  deviceId?: string;
}): RecordingContext<Options> {
  const readings: DriverReading[] = [];
  const events: DriverEvent[] = [];
  const availability: { online: boolean; reason?: string }[] = [];
  const decodeErrors: DecodeReason[] = [];
  let discarded = 0;
  return {
    device: { id: opts.deviceId ?? 'TEST-GP001', kind: 'vehicle' },
    options: opts.options,
    transport: opts.transport,
    log: silentLogger(),
    clock: opts.clock ?? { now: () => Date.now() },
    readings,
    events,
    availability,
    decodeErrors,
    get discardedBytes() {
      return discarded;
    },
    emitReading: (r) => readings.push(r),
    emitEvent: (e) => events.push(e),
    setAvailability: (online, reason) => availability.push(reason === undefined ? { online } : { online, reason }),
    countDecodeError: (reason) => decodeErrors.push(reason),
    countDiscardedBytes: (n) => {
      discarded += n;
    },
  };
}
