/** Downsampling of chart history: equal time buckets, each its mean. */
import { describe, expect, it } from 'vitest';
import { downsample } from '../../hub/src/http/data-routes.js';

describe('downsample', () => {
  it('keeps a series within the bound as it is', () => {
    const pts: [number, number][] = [
      [0, 1],
      [10, 2],
    ];
    expect(downsample(pts, 0, 100, 10)).toBe(pts);
  });

  it('averages values and times per bucket, skipping empty buckets', () => {
    // 0..100 in 4 buckets of 25 ms: [0,10,20] -> bucket 0, [30] -> 1, none in 2, [90, 99] -> 3
    const pts: [number, number][] = [
      [0, 1],
      [10, 2],
      [20, 3],
      [30, 10],
      [90, 4],
      [99, 6],
    ];
    expect(downsample(pts, 0, 100, 4)).toEqual([
      [10, 2],
      [30, 10],
      [95, 5],
    ]);
  });
});
