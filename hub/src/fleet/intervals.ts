/**
 * Stretches of a road driven, as sorted disjoint [from, to] intervals in metres along its centre
 * line. Union semantics: driving a stretch twice covers it once.
 */

export type Interval = readonly [from: number, to: number];

/** Adds [a, b] (either order) to sorted disjoint intervals; returns a new array. Touching ones merge. */
export function addInterval(intervals: readonly Interval[], a: number, b: number): Interval[] {
  let lo = Math.min(a, b);
  let hi = Math.max(a, b);
  if (!(hi > lo)) return intervals as Interval[];
  const out: Interval[] = [];
  let placed = false;
  for (const iv of intervals) {
    if (iv[1] < lo) out.push(iv);
    else if (iv[0] > hi) {
      if (!placed) {
        out.push([lo, hi]);
        placed = true;
      }
      out.push(iv);
    } else {
      lo = Math.min(lo, iv[0]);
      hi = Math.max(hi, iv[1]);
    }
  }
  if (!placed) out.push([lo, hi]);
  return out;
}

/** The union of several interval lists. */
export function unionIntervals(lists: readonly (readonly Interval[])[]): Interval[] {
  let out: Interval[] = [];
  for (const list of lists) for (const [a, b] of list) out = addInterval(out, a, b);
  return out;
}

/** Total length of sorted disjoint intervals, clipped to [0, max]. */
export function measure(intervals: readonly Interval[], max = Number.POSITIVE_INFINITY): number {
  let sum = 0;
  for (const [a, b] of intervals) sum += Math.max(0, Math.min(b, max) - Math.max(a, 0));
  return sum;
}
