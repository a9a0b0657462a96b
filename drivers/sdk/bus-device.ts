/**
 * One device on a shared bus, as the bus poller sees it (drivers/bus-poller). Protocol-agnostic:
 * each polled driver builds one from its codec (request builder, framing, matcher) so the poller
 * needs to know nothing of CJ/T 188 or Modbus. Lives in the SDK because polled driver
 * definitions (driver.ts) return it.
 */
import type { SplitResult } from './driver.js';
import type { DecodeError } from './errors.js';

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
  /**
   * Called once by the poller with a function that brings this device's next poll forward to now
   * (a hub command shortened its interval: the poller would otherwise wait out the old one).
   */
  bindPollSoon?(pollSoon: () => void): void;
}
