/** A NetworkDriverContext that records what a network driver emits, for driver tests. */
import type { DriverEvent, DriverEvidence, NetworkDriverContext } from '../../../drivers/sdk/driver.js';
import { silentLogger } from '../../../drivers/sdk/log.js';

export interface RecordingNetworkContext<Options> extends NetworkDriverContext<Options> {
  readonly events: DriverEvent[];
  readonly evidence: DriverEvidence[];
  readonly availability: { online: boolean; reason?: string }[];
  readonly errors: string[];
}

export function networkContext<Options>(
  options: Options,
  device = { id: 'XH-CAM01', asset: 'BR-XH-001' },
): RecordingNetworkContext<Options> {
  const events: DriverEvent[] = [];
  const evidence: DriverEvidence[] = [];
  const availability: { online: boolean; reason?: string }[] = [];
  const errors: string[] = [];
  const stored = new Map<string, unknown>();
  return {
    device: { id: device.id, kind: 'camera', asset: device.asset },
    options,
    log: silentLogger(),
    clock: { now: () => Date.now() },
    store: { get: <T>(key: string) => stored.get(key) as T | undefined, set: (key, value) => stored.set(key, value) },
    events,
    evidence,
    availability,
    errors,
    emitReading: () => undefined,
    emitEvent: (e) => events.push(e),
    emitEvidence: (e) => evidence.push(e),
    setAvailability: (online, reason) => availability.push(reason === undefined ? { online } : { online, reason }),
    countDecodeError: () => undefined,
    countError: (code) => errors.push(code),
  };
}
