/**
 * A simulator's clock: sim time starts at `startMs` and runs `speedup` times faster than the real
 * clock it is given, so a day of weather passes in minutes of a drill. Injected everywhere a
 * simulator needs the time; tests pass their own `realNow`.
 */
export interface SimClock {
  /** Sim time now, ms since the epoch. */
  now(): number;
  readonly speedup: number;
  /** Real time since the clock started, ms: the timeline of things a device does in real time. */
  elapsedRealMs(): number;
}

export function createSimClock(opts: { speedup?: number; startMs?: number; realNow?: () => number } = {}): SimClock {
  const realNow = opts.realNow ?? Date.now;
  const speedup = opts.speedup ?? 1;
  if (!(speedup > 0 && speedup <= 1_000_000)) throw new RangeError(`speedup must be in (0, 1e6], got ${speedup}`);
  const realStart = realNow();
  const startMs = opts.startMs ?? realStart;
  return {
    speedup,
    now: () => startMs + (realNow() - realStart) * speedup,
    elapsedRealMs: () => realNow() - realStart,
  };
}
