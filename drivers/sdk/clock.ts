/** Injected wherever "now" matters, so tests can drive time. Codecs never take one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
