/**
 * Interval consumption at the edge: what a meter measured between two reads, from its cumulative
 * counter. Pure. The counter is not always monotonic:
 * - it wraps: CJ/T 188 carries XXXXXX.XX m³, so 999 999.99 is followed by 0.00;
 * - water runs backwards through it (a net counter falls a little);
 * - the meter was replaced: the new one starts from its own reading (usually near zero), or the
 *   meter reports another serial number.
 * A change is judged against what the pipe can carry in the time between the reads
 * (`maxFlowM3h`): a fall that a wrap explains within that bound is a wrap, a small fall is reverse
 * flow, anything else is a replacement, after which the new reading is the new baseline.
 */

export interface CounterRead {
  /** Cumulative volume, m³. */
  volumeM3: number;
  /** When it was read, ms. */
  ts: number;
  /** The meter's own serial number, when the protocol reports one. */
  serial?: string;
}

export interface IntervalRules {
  /** The counter's modulus: the first value it never shows (CJ/T 188: 1 000 000 m³). */
  rolloverM3: number;
  /** The most the meter can pass, m³/h (its overload flow Q4): bounds what a real change can be. */
  maxFlowM3h: number;
}

export type IntervalOutcome =
  /** No earlier read to compare with. */
  | { kind: 'first' }
  /** `m3` passed since the previous read (negative: reverse flow); `wrapped` when the counter rolled over. */
  | { kind: 'interval'; m3: number; wrapped: boolean; reverse: boolean }
  /** The counter jumped in a way no flow explains, or the serial changed: a new meter; no interval. */
  | { kind: 'replaced'; previousM3: number; reason: string };

/** Counter resolution: CJ/T 188 and most meters give 0.01 m³; rounding removes float noise. */
const round = (m3: number) => Math.round(m3 * 1000) / 1000;

export function intervalConsumption(
  previous: CounterRead | undefined,
  current: CounterRead,
  rules: IntervalRules,
): IntervalOutcome {
  if (!previous) return { kind: 'first' };
  if (previous.serial !== undefined && current.serial !== undefined && previous.serial !== current.serial)
    return {
      kind: 'replaced',
      previousM3: previous.volumeM3,
      reason: `serial ${previous.serial} -> ${current.serial}`,
    };
  const hours = Math.max(0, current.ts - previous.ts) / 3_600_000;
  // one counter step of slack: two reads a moment apart may differ by the last digit
  const bound = rules.maxFlowM3h * hours + 0.01;
  const delta = current.volumeM3 - previous.volumeM3;
  if (delta >= 0) {
    if (delta <= bound) return { kind: 'interval', m3: round(delta), wrapped: false, reverse: false };
    return {
      kind: 'replaced',
      previousM3: previous.volumeM3,
      reason: `counter rose ${round(delta)} m³ in ${round(hours)} h, more than ${rules.maxFlowM3h} m³/h can pass`,
    };
  }
  const wrapped = rules.rolloverM3 - previous.volumeM3 + current.volumeM3;
  if (wrapped >= 0 && wrapped <= bound) return { kind: 'interval', m3: round(wrapped), wrapped: true, reverse: false };
  if (-delta <= bound) return { kind: 'interval', m3: round(delta), wrapped: false, reverse: true };
  return {
    kind: 'replaced',
    previousM3: previous.volumeM3,
    reason: `counter fell ${round(-delta)} m³ in ${round(hours)} h, more than reverse flow can explain`,
  };
}
