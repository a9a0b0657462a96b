/** A DriverContext that records what a driver emits, for driver unit tests. */
import type { Clock } from '../../drivers/sdk/clock.js';
import type {
  ByteTransport,
  DriverContext,
  DriverEvent,
  DriverEvidence,
  DriverReading,
} from '../../drivers/sdk/driver.js';
import type { DecodeReason } from '../../drivers/sdk/errors.js';
import { silentLogger } from '../../drivers/sdk/log.js';

export interface RecordingContext<Options> extends DriverContext<Options> {
  readonly readings: DriverReading[];
  readonly events: DriverEvent[];
  readonly evidence: DriverEvidence[];
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
  const evidence: DriverEvidence[] = [];
  const stored = new Map<string, unknown>();
  const availability: { online: boolean; reason?: string }[] = [];
  const decodeErrors: DecodeReason[] = [];
  let discarded = 0;
  return {
    device: { id: opts.deviceId ?? 'TEST-GP001', kind: 'vehicle' },
    options: opts.options,
    transport: opts.transport,
    log: silentLogger(),
    clock: opts.clock ?? { now: () => Date.now() },
    store: { get: <T>(key: string) => stored.get(key) as T | undefined, set: (key, value) => stored.set(key, value) },
    readings,
    events,
    evidence,
    availability,
    decodeErrors,
    get discardedBytes() {
      return discarded;
    },
    emitReading: (r) => readings.push(r),
    emitEvent: (e) => events.push(e),
    emitEvidence: (e) => evidence.push(e),
    setAvailability: (online, reason) => availability.push(reason === undefined ? { online } : { online, reason }),
    countDecodeError: (reason) => decodeErrors.push(reason),
    countDiscardedBytes: (n) => {
      discarded += n;
    },
  };
}
