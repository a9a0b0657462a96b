import { describe, expect, it } from 'vitest';
import { type SimFix, startGpsSimulator } from '../../../simulators/gps/index.js';

describe('GPS simulator timing', () => {
  it('stamps every epoch with a later time than the one before, even when the clock stalls or a tick is late', async () => {
    // A clock that stalls (the same instant twice) and then jumps, as a late timer tick sees it.
    const instants = [1_000_000, 1_000_040, 1_000_040, 1_000_190, 1_000_199, 1_000_300];
    let i = 0;
    const now = () => instants[Math.min(i++, instants.length - 1)] as number;
    const fixes: SimFix[] = [];
    const sim = await startGpsSimulator({
      route: [
        [120.09, 30.268],
        [120.105, 30.27],
      ],
      out: { write: () => {} },
      rateHz: 20, // a 50 ms period: the floors of 1_000_000 and 1_000_040 are the same epoch
      now,
      onFix: (f) => fixes.push(f),
    });
    while (fixes.length < 6) await new Promise((r) => setTimeout(r, 5));
    await sim.stop();
    const times = fixes.slice(0, 6).map((f) => f.time);
    for (let k = 1; k < times.length; k++) expect(times[k]).toBeGreaterThan(times[k - 1] as number);
  });
});
