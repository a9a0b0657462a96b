/**
 * Line timing of a serial bus: character times, Modbus RTU silence, time on the wire, and the
 * backoff of a device that keeps timing out. Pure arithmetic.
 */

/** Bits one character takes on the wire: start + 8 data + parity + stop = 11 (8E1, 8N2); 10 for 8N1. */
export const DEFAULT_BITS_PER_CHAR = 11;

/** Milliseconds one character takes at `baud`. */
export function charTimeMs(baud: number, bitsPerChar = DEFAULT_BITS_PER_CHAR): number {
  if (!(baud > 0)) throw new RangeError(`baud must be positive, got ${baud}`);
  return (bitsPerChar * 1000) / baud;
}

/** Milliseconds `bytes` characters take on the wire at `baud`. */
export function wireTimeMs(bytes: number, baud: number, bitsPerChar = DEFAULT_BITS_PER_CHAR): number {
  return bytes * charTimeMs(baud, bitsPerChar);
}

/**
 * Modbus RTU inter-frame silence t3.5 [Modbus over Serial Line V1.02 §2.5.1.1]: 3.5 character
 * times, fixed at 1.75 ms above 19 200 baud (where the character time would be too short to time).
 */
export function modbusSilenceMs(baud: number, bitsPerChar = DEFAULT_BITS_PER_CHAR): number {
  return baud > 19200 ? 1.75 : 3.5 * charTimeMs(baud, bitsPerChar);
}

/** How the quiet time before the next request is given: a fixed value or a number of character times. */
export type SilenceSpec = { ms: number } | { charTimes: number; baud: number; bitsPerChar?: number };

export function silenceMs(spec: SilenceSpec): number {
  if ('ms' in spec) return spec.ms;
  return spec.charTimes * charTimeMs(spec.baud, spec.bitsPerChar);
}

export interface BackoffPolicy {
  /** The normal poll interval of the device, ms. */
  intervalMs: number;
  /** Multiplier per consecutive failed poll (2 doubles the wait each time). */
  factor: number;
  /** The slowest schedule: a device that keeps failing is probed at this interval. */
  capMs: number;
}

/**
 * Wait before the next poll of a device after `consecutiveFailures` failed polls in a row
 * (0 = it answered last time): interval × factor^failures, at most capMs (never below the interval).
 */
export function backoffDelayMs(policy: BackoffPolicy, consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return policy.intervalMs;
  const slowed = policy.intervalMs * policy.factor ** consecutiveFailures;
  return Math.max(policy.intervalMs, Math.min(slowed, policy.capMs));
}

/** setTimeout/clearTimeout, injectable so tests (and a simulated bus) drive time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
