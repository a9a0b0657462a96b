import { describe, expect, it } from 'vitest';
import { intervalConsumption } from '../../../drivers/water-meter/interval.js';

const H = 3_600_000;
const rules = { rolloverM3: 1_000_000, maxFlowM3h: 5 };

describe('interval consumption', () => {
  it('has nothing to compare the first read with', () => {
    expect(intervalConsumption(undefined, { volumeM3: 12.3, ts: 0 }, rules)).toEqual({ kind: 'first' });
  });

  it('is the rise of the counter, without float noise', () => {
    expect(intervalConsumption({ volumeM3: 100.1, ts: 0 }, { volumeM3: 100.3, ts: H }, rules)).toEqual({
      kind: 'interval',
      m3: 0.2,
      wrapped: false,
      reverse: false,
    });
  });

  it('counts across the rollover at 999 999.99 -> 0', () => {
    expect(intervalConsumption({ volumeM3: 999_999.5, ts: 0 }, { volumeM3: 0.75, ts: H }, rules)).toEqual({
      kind: 'interval',
      m3: 1.25,
      wrapped: true,
      reverse: false,
    });
  });

  it('takes a small fall for reverse flow (a negative interval)', () => {
    expect(intervalConsumption({ volumeM3: 50, ts: 0 }, { volumeM3: 49.9, ts: H }, rules)).toEqual({
      kind: 'interval',
      m3: -0.1,
      wrapped: false,
      reverse: true,
    });
  });

  it('takes a fall no flow explains for a new meter', () => {
    const out = intervalConsumption({ volumeM3: 4321.5, ts: 0 }, { volumeM3: 0.02, ts: H }, rules);
    expect(out).toMatchObject({ kind: 'replaced', previousM3: 4321.5 });
  });

  it('takes a rise beyond what the pipe can pass for a new meter', () => {
    // 5 m³/h for 2 h is at most 10 m³: 250 m³ is another meter
    const out = intervalConsumption({ volumeM3: 10, ts: 0 }, { volumeM3: 260, ts: 2 * H }, rules);
    expect(out).toMatchObject({ kind: 'replaced', previousM3: 10 });
    expect(intervalConsumption({ volumeM3: 10, ts: 0 }, { volumeM3: 19.5, ts: 2 * H }, rules)).toMatchObject({
      kind: 'interval',
      m3: 9.5,
    });
  });

  it('takes another serial number for a new meter even when the counters look continuous', () => {
    const out = intervalConsumption(
      { volumeM3: 10, ts: 0, serial: '0001' },
      { volumeM3: 10.1, ts: H, serial: '0002' },
      rules,
    );
    expect(out).toMatchObject({ kind: 'replaced', reason: 'serial 0001 -> 0002' });
  });
});
