import { describe, expect, it } from 'vitest';
import { SeqTracker } from '../../hub/src/ingest/seq-tracker.js';

function deliver(t: SeqTracker, ...seqs: number[]): void {
  for (const s of seqs) {
    expect(t.receive(s).kind).toBe('new');
    t.markDurable(s);
  }
}

describe('SeqTracker', () => {
  it('advances the watermark over contiguous durable seqs starting at 0', () => {
    const t = new SeqTracker();
    expect(t.watermark).toBe(-1);
    deliver(t, 0, 1, 2);
    expect(t.watermark).toBe(2);
  });

  it('treats a seq at or below the watermark as an acked duplicate', () => {
    const t = new SeqTracker();
    deliver(t, 0, 1);
    expect(t.receive(1)).toEqual({ kind: 'duplicate', acked: true });
    expect(t.receive(0)).toEqual({ kind: 'duplicate', acked: true });
  });

  it('treats an in-flight or durable-above-watermark seq as an unacked duplicate', () => {
    const t = new SeqTracker();
    expect(t.receive(0).kind).toBe('new');
    expect(t.receive(0)).toEqual({ kind: 'duplicate', acked: false });
    t.receive(2);
    t.markDurable(2);
    expect(t.receive(2)).toEqual({ kind: 'duplicate', acked: false });
  });

  it('counts the seqs skipped by a message that jumps ahead, and a late fill is not a duplicate', () => {
    const t = new SeqTracker();
    deliver(t, 0);
    expect(t.receive(4)).toEqual({ kind: 'new', gaps: 3, late: false });
    t.markDurable(4);
    expect(t.watermark).toBe(0);
    expect(t.receive(2)).toEqual({ kind: 'new', gaps: 0, late: true });
    t.markDurable(2);
    expect(t.watermark).toBe(0);
    deliver(t, 1);
    expect(t.watermark).toBe(2);
    deliver(t, 3);
    expect(t.watermark).toBe(4);
  });

  it('holds the watermark until out-of-order completions fill in', () => {
    const t = new SeqTracker();
    for (const s of [0, 1, 2, 3]) t.receive(s);
    expect(t.markDurable(2)).toBe(false);
    expect(t.markDurable(3)).toBe(false);
    expect(t.watermark).toBe(-1);
    expect(t.markDurable(0)).toBe(true);
    expect(t.watermark).toBe(0);
    expect(t.markDurable(1)).toBe(true);
    expect(t.watermark).toBe(3);
    expect(t.pending).toBe(0);
  });

  it('jumps the watermark to firstUnacked - 1 and counts no gap below it', () => {
    const t = new SeqTracker();
    const r = t.receive(100, 100);
    expect(r).toEqual({ kind: 'new', gaps: 0, late: false });
    expect(t.watermark).toBe(99);
    t.markDurable(100);
    expect(t.watermark).toBe(100);
    expect(t.receive(50)).toEqual({ kind: 'duplicate', acked: true });
  });

  it('does not jump over a seq still in flight below firstUnacked', () => {
    const t = new SeqTracker();
    t.receive(0);
    t.receive(5, 3);
    expect(t.watermark).toBe(-1);
    t.markDurable(0);
    expect(t.watermark).toBe(2);
    t.markDurable(5);
    expect(t.watermark).toBe(2);
  });

  it('resumes from a persisted watermark: older seqs are duplicates, the next one is new', () => {
    const t = new SeqTracker(41);
    expect(t.receive(41)).toEqual({ kind: 'duplicate', acked: true });
    expect(t.receive(42)).toEqual({ kind: 'new', gaps: 0, late: false });
  });

  it('markDurable of an unknown seq changes nothing', () => {
    const t = new SeqTracker();
    expect(t.markDurable(0)).toBe(false);
    expect(t.watermark).toBe(-1);
  });
});
