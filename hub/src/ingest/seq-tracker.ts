/**
 * Dedup and gap accounting for one (gateway, bootId) sequence space (DESIGN §4.2).
 *
 * - `watermark`: the highest seq such that every seq <= it is durable (or settled by the edge's
 *   `firstUnacked`). It is what the hub acknowledges. -1 before anything.
 * - `durable`: seqs above the watermark already durable (they completed out of order).
 * - `inFlight`: seqs received and handed to the store, not durable yet.
 *
 * A seq that is <= watermark, in flight or durable is a duplicate. A message that skips ahead of
 * the highest seq seen counts the skipped seqs as gaps (a later arrival of one of them is "late",
 * not a duplicate). Pure: no clock, no I/O.
 */

export type ReceiveResult =
  /** New: hand it to the store and call markDurable(seq) once stored. */
  | { kind: 'new'; gaps: number; late: boolean }
  /** Seen before. `acked` is true when it is at or below the watermark (re-send the ack). */
  | { kind: 'duplicate'; acked: boolean };

/**
 * Most durable seqs kept above a hole before the hole is given up on. Only an edge that never
 * re-sends (no outbox) and never sends `firstUnacked` can get here; it bounds memory.
 */
export const MAX_DURABLE_ABOVE_WATERMARK = 65_536;

/** The common answer (a new seq, no gap, in order), shared: receive() runs once per uplink message. */
const NEW_IN_ORDER: ReceiveResult = Object.freeze({ kind: 'new', gaps: 0, late: false });

export class SeqTracker {
  private mark: number;
  /** Everything below this is settled according to the edge (max firstUnacked seen). */
  private floor: number;
  private highest: number;
  private readonly durable = new Set<number>();
  private readonly inFlight = new Set<number>();
  /** Holes given up on because of MAX_DURABLE_ABOVE_WATERMARK. */
  abandoned = 0;

  /** @param watermark a persisted watermark to resume from (-1 for a new boot). */
  constructor(watermark = -1) {
    this.mark = watermark;
    this.floor = watermark + 1;
    this.highest = watermark;
  }

  get watermark(): number {
    return this.mark;
  }

  get highestSeen(): number {
    return this.highest;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Registers an arriving seq. `firstUnacked` (the lowest seq the edge still holds) settles
   * everything below it; apply it before judging the seq.
   */
  receive(seq: number, firstUnacked?: number): ReceiveResult {
    if (firstUnacked !== undefined && firstUnacked > this.floor) {
      this.floor = firstUnacked;
      this.highest = Math.max(this.highest, firstUnacked - 1);
      this.advance();
    }
    if (seq <= this.mark) return { kind: 'duplicate', acked: true };
    if (this.inFlight.has(seq) || this.durable.has(seq)) return { kind: 'duplicate', acked: false };
    let gaps = 0;
    let late = false;
    if (seq > this.highest) {
      gaps = seq - this.highest - 1;
      this.highest = seq;
    } else {
      late = true;
    }
    this.inFlight.add(seq);
    return gaps === 0 && !late ? NEW_IN_ORDER : { kind: 'new', gaps, late };
  }

  /** Marks a seq durable; returns true when the watermark moved. */
  markDurable(seq: number): boolean {
    if (!this.inFlight.delete(seq)) return false;
    if (seq <= this.mark) return false;
    const before = this.mark;
    // In order (the usual case) the seq moves the watermark itself; no need to park it in `durable`.
    if (seq === this.mark + 1) this.mark = seq;
    else this.durable.add(seq);
    this.advance();
    if (this.durable.size > MAX_DURABLE_ABOVE_WATERMARK) this.abandonLowestHole();
    return this.mark !== before;
  }

  /** Forgets a seq whose write failed for good, so a re-send is not mistaken for a duplicate. */
  forget(seq: number): void {
    this.inFlight.delete(seq);
  }

  private advance(): void {
    for (;;) {
      const next = this.mark + 1;
      if (this.durable.delete(next)) {
        this.mark = next;
        continue;
      }
      if (next < this.floor && !this.inFlight.has(next)) {
        // Settled by the edge: jump to just below the floor, or below the first seq still in flight there.
        let target = this.floor - 1;
        for (const s of this.inFlight) if (s >= next && s <= target) target = s - 1;
        for (const s of this.durable) if (s <= target) this.durable.delete(s);
        this.mark = target;
        continue;
      }
      return;
    }
  }

  private abandonLowestHole(): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const s of this.durable) lowest = Math.min(lowest, s);
    for (let s = this.mark + 1; s < lowest; s++) if (!this.inFlight.has(s)) this.abandoned++;
    this.floor = Math.max(this.floor, lowest);
    this.advance();
  }
}
