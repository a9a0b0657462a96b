/**
 * The contract between the bus poller and the protocols it carries. The poller knows nothing of
 * CJ/T 188 or Modbus: each device brings its request builder, its framing and its matcher.
 */
import type { DecodeReason } from '../sdk/errors.js';

export type { AnswerInfo, BusDevice, MatchVerdict } from '../sdk/bus-device.js';

/**
 * Why bytes were thrown away instead of being credited to a device.
 * - `late`: a valid answer of a device that is not (or no longer) being asked: it came after its
 *   timeout, or after the answer already came.
 * - `other-address`: a valid frame no device on this bus claims.
 * - `echo`: our own request coming back.
 * - `refused`: the codec refused the frame (the DecodeReason is given).
 * - `noise`: bytes no frame was made of (counted in bytes, not frames), including a partial frame
 *   left on the line when the next request goes out.
 */
export type DiscardReason = 'late' | 'other-address' | 'echo' | 'refused' | 'noise';

export interface Discard {
  reason: DiscardReason;
  /** Bytes thrown away. */
  bytes: number;
  /** The device being asked when it arrived, if any. */
  inFlight?: string;
  /** For `late` and `echo`: the device the frame belongs to. */
  from?: string;
  /** For `refused`. */
  decodeReason?: DecodeReason;
}

export interface PollFailure {
  device: string;
  /** Attempts made (1 + retries). */
  attempts: number;
  /** Failed polls in a row, this one included. */
  consecutiveFailures: number;
  /** When this device is asked again, ms from now. */
  nextPollInMs: number;
}

/** Counters since the poller was created. */
export interface BusPollerCounters {
  requests: number;
  answers: number;
  /** Attempts that ended without an answer (each retry counts). */
  timeouts: number;
  /** Polls that failed after every retry. */
  failedPolls: number;
  /** Frames discarded, by reason (`noise` is in bytes). */
  discarded: Record<DiscardReason, number>;
  /** Refused frames by the codec's reason. */
  refusedByReason: Partial<Record<DecodeReason, number>>;
}

export interface DeviceState {
  /** undefined until the device answered once or went offline. */
  online: boolean | undefined;
  consecutiveFailures: number;
  /** Clock time of the next scheduled poll. */
  nextPollAt: number;
  answers: number;
  failedPolls: number;
}
