/**
 * The contract between the bus poller and the protocols it carries. The poller knows nothing of
 * CJ/T 188 or Modbus: each device brings its request builder, its framing and its matcher.
 */
import type { SplitResult } from '../sdk/driver.js';
import type { DecodeError, DecodeReason } from '../sdk/errors.js';

/** What a device's matcher says about one frame, given the request it last sent. */
export type MatchVerdict<Value> =
  /** The answer to that request, decoded. */
  | { verdict: 'mine'; value: Value }
  /** A well-formed frame, but not this device's answer (other address, other function, other DI). */
  | { verdict: 'not-mine' }
  /** The request itself coming back (a local echo of the adapter, or a meter that echoes). */
  | { verdict: 'echo' }
  /** The codec refused the frame (checksum, truncation, impossible field). */
  | { verdict: 'refused'; error: DecodeError };

export interface AnswerInfo {
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  /** From sending the request that was answered to the answer, ms (clock time). */
  elapsedMs: number;
}

/** One device on the bus, as a protocol adapter builds it. */
export interface BusDevice<Value = unknown> {
  /** Device id for logs, counters and callbacks. */
  readonly id: string;
  /** Builds the next request; called for every attempt (a protocol may number its requests). */
  request(): Buffer;
  /** The protocol's framing (codec.split). */
  split(buf: Buffer): SplitResult;
  /** Judges one frame against the request this device last sent. Must not throw. */
  match(frame: Buffer, sent: Buffer): MatchVerdict<Value>;
  /** Receives the decoded answer. Exceptions are logged and swallowed. */
  onAnswer(value: Value, info: AnswerInfo): void;
  /** Overrides the poller's poll interval for this device, ms. */
  readonly pollIntervalMs?: number;
  /** Overrides the poller's response timeout for this device, ms. */
  readonly responseTimeoutMs?: number;
}

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
